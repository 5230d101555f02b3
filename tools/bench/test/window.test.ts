import { describe, expect, it } from 'vitest';
import { pickCleanest } from '../src/load/window.js';
import type { Window } from '../src/load/window.js';

const window = (interval: number, other: number, steal = 0): Window => ({
  seconds: 1,
  ops: 1000 * interval,
  rate: 1000 * interval,
  cpuPerOp: 1,
  redisCpuPerOp: 0,
  clientCpuPercent: 50,
  otherCpuPercent: other,
  stealCpuPercent: steal,
  interval,
  intervals: 3,
});

describe('choosing the measurement sub-window', () => {
  it('takes the one where other work took the least CPU, steal included', () => {
    expect(pickCleanest([window(0, 80), window(1, 5, 30), window(2, 20)]).interval).toBe(2);
  });

  it('takes the earliest on a tie and refuses an empty list', () => {
    expect(pickCleanest([window(0, 0), window(1, 0)]).interval).toBe(0);
    expect(() => pickCleanest([])).toThrow(/no measurement window/);
  });
});
