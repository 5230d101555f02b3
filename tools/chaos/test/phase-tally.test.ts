import { afterEach, describe, expect, it, vi } from 'vitest';
import { PhaseTally } from '../src/phase-tally.js';

describe('PhaseTally', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('counts a refused request in the phase it failed in, its UNAVAILABLE window from the send to the refusal', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const tally = new PhaseTally();
    tally.begin('start');
    const sentBefore = Date.now(); // sent in the start phase, refused in the next one: counts from that one's start
    vi.setSystemTime(1_000_500);
    tally.begin('SIGSTOP node 1');
    const stall = tally.at(1);
    vi.setSystemTime(1_004_100); // woke 4.1 s into the stall
    tally.error('UNAVAILABLE', 1_000_600); // sent 100 ms into the stall, held by the stopped node
    tally.error('UNAVAILABLE', sentBefore);
    tally.error('DISCONNECTED', 1_000_700);
    expect(tally.at(0).errors).toEqual({});
    expect(stall.errors).toEqual({ UNAVAILABLE: 2, DISCONNECTED: 1 });
    expect(stall.unavailable).toEqual({ first: 0, last: 3600, count: 2 });
  });

  it('counts an error without a send in the current phase, its window starting and ending now', () => {
    const tally = new PhaseTally();
    tally.begin('start');
    tally.error('UNAVAILABLE');
    tally.error('DISCONNECTED');
    const window = tally.at().unavailable;
    expect(window?.count).toBe(1);
    expect(window?.first).toBe(window?.last);
    expect(tally.at().errors).toEqual({ UNAVAILABLE: 1, DISCONNECTED: 1 });
  });
});
