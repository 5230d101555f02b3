import { describe, expect, it } from 'vitest';
import {
  parseMachineCpu,
  parseStatCpuMicros,
  parseStatusRssBytes,
  processCpuMicros,
  processRssBytes,
} from '../src/load/process/proc-stats.js';

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

  it('measures a live process', () => {
    let spin = 0;
    for (let i = 0; i < 2e6; i++) spin += i;
    expect(spin).toBeGreaterThan(0);
    expect(processCpuMicros(process.pid)).toBeGreaterThan(0);
    expect(processRssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });
});
