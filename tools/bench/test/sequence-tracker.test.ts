import { describe, expect, it } from 'vitest';
import { SequenceTracker } from '../src/load/driver/sequence-tracker.js';

describe('SequenceTracker', () => {
  it('accepts in-order messages and reports nothing missing', () => {
    const t = new SequenceTracker(2);
    for (let seq = 0; seq < 5; seq++) expect(t.see(1, seq)).toBe(true);
    expect(t.gaps).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(t.missingFrom(1, 5)).toBe(0);
    expect(t.missingFrom(0, 0)).toBe(0);
  });

  it('counts a skipped message as a gap and the tail as missing', () => {
    const t = new SequenceTracker(1);
    t.see(0, 0);
    t.see(0, 2);
    expect(t.gaps).toBe(1);
    expect(t.missingFrom(0, 5)).toBe(2);
  });

  it('counts a repeat (or a late reorder) as a duplicate, not as new', () => {
    const t = new SequenceTracker(1);
    t.see(0, 0);
    t.see(0, 1);
    expect(t.see(0, 1)).toBe(false);
    expect(t.see(0, 0)).toBe(false);
    expect(t.duplicates).toBe(2);
  });

  it('ignores a sender index outside the group', () => {
    const t = new SequenceTracker(1);
    expect(t.see(3, 0)).toBe(false);
    expect(t.duplicates + t.gaps).toBe(0);
  });
});
