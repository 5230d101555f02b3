import { describe, expect, it } from 'vitest';
import {
  parseMachineCpu,
  parseStatCpuMicros,
  parseStatusRssBytes,
  processCpuMicros,
  processRssBytes,
} from '../src/load/process/proc-stats.js';

/** CPU the live-process test spends (µs): long enough against /proc's 10 ms ticks, short for a shared machine. */
const SPIN_MICROS = 100_000;

describe('/proc readers', () => {
  it('reads utime + stime after a command name with spaces and parentheses', () => {
    const stat = '1234 (node (my) srv) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 99 0 0';
    expect(parseStatCpuMicros(stat, 100)).toBe(3_000_000);
  });

  it('reads VmRSS in bytes', () => {
    expect(parseStatusRssBytes('Name:\tnode\nVmRSS:\t  20480 kB\nThreads:\t7\n')).toBe(20480 * 1024);
    expect(() => parseStatusRssBytes('Name:\tnode\n')).toThrow(/VmRSS/);
  });

  it('splits machine CPU into processes, interrupts and steal', () => {
    const cpu = parseMachineCpu('cpu  100 5 20 900 3 1 4 7 0 0\ncpu0 1 2 3\n', 100);
    expect(cpu).toEqual({ processes: 1_250_000, interrupts: 50_000, steal: 70_000 });
  });

  it('reads a live process: its CPU time grows with the CPU it spends, in µs', () => {
    const procBefore = processCpuMicros(process.pid);
    const usageBefore = process.cpuUsage();
    // Spin until the process's own accounting (getrusage) says it spent SPIN_MICROS, ten clock ticks of /proc.
    let spent = 0;
    while (spent < SPIN_MICROS) {
      const used = process.cpuUsage(usageBefore);
      spent = used.user + used.system;
    }
    const grew = processCpuMicros(process.pid) - procBefore;
    // /proc counts whole ticks (10 ms): allow two ticks of rounding below, and other threads' work above, but not a
    // wrong unit (ticks or ms would be far below, ns far above).
    expect(grew).toBeGreaterThanOrEqual(spent / 2);
    expect(grew).toBeLessThan(3 * spent + 50_000);
    expect(processRssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });
});
