import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StallProbe } from '../src/stall-probe.js';

/** The stall probe's timing on a fake clock: a PING that a test answers (or not) by hand. */
describe('StallProbe', () => {
  let answer: (() => void) | null;
  let pings: number;
  let reports: boolean[];
  let probe: StallProbe;

  beforeEach(() => {
    vi.useFakeTimers();
    answer = null;
    pings = 0;
    reports = [];
    probe = new StallProbe({
      intervalMs: 1000,
      timeoutMs: 2000,
      now: () => Date.now(),
      ping: () => {
        pings++;
        return new Promise<void>((resolve) => (answer = resolve));
      },
      onStall: (stalled) => reports.push(stalled),
    });
    probe.start();
  });

  afterEach(() => {
    probe.stop();
    vi.useRealTimers();
  });

  /** Answers the outstanding PING now. */
  async function reply(): Promise<void> {
    answer?.();
    answer = null;
    await vi.advanceTimersByTimeAsync(0);
  }

  it('sends one PING per interval, none while one is outstanding', async () => {
    await vi.advanceTimersByTimeAsync(1000);
    expect(pings).toBe(1);
    await reply();
    await vi.advanceTimersByTimeAsync(1000);
    expect(pings).toBe(2);
    await vi.advanceTimersByTimeAsync(500);
    await reply();
    await vi.advanceTimersByTimeAsync(500);
    expect(pings).toBe(3);
    // Still outstanding at the next tick (1.5 s since the last answer, under the timeout): that tick sends none.
    await vi.advanceTimersByTimeAsync(1000);
    expect(pings).toBe(3);
    await reply();
    await vi.advanceTimersByTimeAsync(1000);
    expect(pings).toBe(4);
    expect(reports).toEqual([]);
  });

  it('reports a stall once no PING was answered for the timeout, and the end of it at the next answer', async () => {
    await vi.advanceTimersByTimeAsync(1000);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(reports).toEqual([true]);
    expect(probe.isStalled).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(reports).toEqual([true]);
    await reply();
    expect(reports).toEqual([true, false]);
    expect(probe.isStalled).toBe(false);
  });

  it('a tick that comes late (this process did not run) restarts the timeout instead of reporting a stall', async () => {
    await vi.advanceTimersByTimeAsync(1000);
    vi.setSystemTime(Date.now() + 10_000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(reports).toEqual([]);
  });

  it('stop() ends it: no PING after, and an answer after it reports nothing', async () => {
    await vi.advanceTimersByTimeAsync(3000);
    expect(reports).toEqual([true]);
    probe.stop();
    probe.stop();
    await reply();
    await vi.advanceTimersByTimeAsync(5000);
    expect(pings).toBe(1);
    expect(reports).toEqual([true]);
  });
});
