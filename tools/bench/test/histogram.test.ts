import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../src/load/histogram.js';

describe('LatencyHistogram', () => {
  it('is empty at first', () => {
    const h = new LatencyHistogram();
    expect(h.count).toBe(0);
    expect(h.percentile(99)).toBe(0);
    expect(h.max).toBe(0);
  });

  it('is exact below 2,048 µs', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    expect(h.percentile(50)).toBe(500);
    expect(h.percentile(99)).toBe(990);
    expect(h.percentile(100)).toBe(1000);
    expect(h.max).toBe(1000);
  });

  it('stays within 0.1 % above 2,048 µs and never understates', () => {
    for (const v of [2048, 3000, 12_345, 1_000_003, 987_654_321]) {
      const h = new LatencyHistogram();
      h.record(v);
      h.record(v + 10_000_000_000);
      const p50 = h.percentile(50);
      expect(p50).toBeGreaterThanOrEqual(v);
      expect(p50 / v).toBeLessThan(1.001);
    }
  });

  it('counts negative samples as 0 and keeps the exact max', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(123_457);
    expect(h.percentile(50)).toBe(0);
    expect(h.max).toBe(123_457);
    expect(h.percentile(100)).toBe(123_457);
  });

  it('merges another histogram sent as sparse buckets', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 0; i < 90; i++) a.record(100);
    for (let i = 0; i < 10; i++) b.record(5000);
    a.merge(JSON.parse(JSON.stringify(b.toSparse())));
    expect(a.count).toBe(100);
    expect(a.percentile(90)).toBe(100);
    expect(a.percentile(95)).toBeGreaterThanOrEqual(5000);
    expect(a.max).toBe(5000);
  });

  it('forgets everything on reset', () => {
    const h = new LatencyHistogram();
    h.record(10);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.max).toBe(0);
  });
});
