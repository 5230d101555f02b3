import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** The kernel's clock tick (CLK_TCK) that /proc CPU times are counted in; 100 on virtually every Linux. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * User + system CPU time, in µs, from the text of /proc/<pid>/stat (fields 14 and 15, counted after the `)` that
 * ends the command name, which may itself contain spaces or parentheses).
 */
export function parseStatCpuMicros(stat: string, ticks: number): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unexpected /proc/<pid>/stat format');
  return ((utime + stime) * 1_000_000) / ticks;
}

/** The resident set size in bytes from the text of /proc/<pid>/status (`VmRSS: <n> kB`). */
export function parseStatusRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error('no VmRSS in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

/**
 * CPU time (user + system, all threads) of a live process in µs, read by the kernel's accounting, so it costs
 * the measured process nothing and works whether it is busy or not. Resolution: one clock tick (10 ms).
 */
export function processCpuMicros(pid: number): number {
  return parseStatCpuMicros(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicks());
}

/** Resident set size of a live process, bytes. */
export function processRssBytes(pid: number): number {
  return parseStatusRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** Machine-wide CPU time so far by kind, µs over all cores (from /proc/stat's first line). */
export interface MachineCpu {
  /** user + nice + system: processes, ours included. */
  processes: number;
  /** irq + softirq: the kernel's interrupt work (loopback TCP delivery partly lands here, not in any process). */
  interrupts: number;
  /** Time the hypervisor gave to other guests. */
  steal: number;
}

/** Parses /proc/stat's first line (`cpu user nice system idle iowait irq softirq steal …`, in clock ticks). */
export function parseMachineCpu(stat: string, ticks: number): MachineCpu {
  const f = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const at = (i: number): number => (Number.isFinite(f[i]) ? f[i]! : 0);
  const micros = (n: number): number => (n * 1_000_000) / ticks;
  return { processes: micros(at(0) + at(1) + at(2)), interrupts: micros(at(5) + at(6)), steal: micros(at(7)) };
}

/** Machine-wide CPU time so far (compare with our processes' to see other load). */
export function machineCpu(): MachineCpu {
  return parseMachineCpu(readFileSync('/proc/stat', 'utf8'), clockTicks());
}
