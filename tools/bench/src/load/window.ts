import type { DriverPool, PoolMark } from './driver-pool.js';
import { machineCpu } from './process/proc-stats.js';
import type { MachineCpu } from './process/proc-stats.js';
import type { RunningTarget } from './targets.js';

/** Rates over one measurement (sub-)window. */
export interface Window {
  seconds: number;
  ops: number;
  rate: number;
  cpuPerOp: number;
  redisCpuPerOp: number;
  clientCpuPercent: number;
  /** CPU used during the window by processes not ours (other users' work), % of one core. */
  otherCpuPercent: number;
  /** CPU the hypervisor took for other guests during the window, % of one core. */
  stealCpuPercent: number;
  /** Which sub-window of the measurement this is (its latency interval in the drivers), and of how many. */
  interval: number;
  intervals: number;
}

/** Resolves after `seconds`. */
export const sleep = (seconds: number): Promise<void> => new Promise((r) => setTimeout(r, seconds * 1000));

/** Counters of every process at one instant. */
interface Snapshot {
  mark: PoolMark;
  server: number;
  redis: number;
  clients: number;
  machine: MachineCpu;
}

async function snapshot(target: RunningTarget, driver: DriverPool, record: boolean): Promise<Snapshot> {
  const mark = await driver.mark(record);
  return {
    mark,
    server: target.cpuMicros(),
    redis: target.redisCpuMicros(),
    clients: driver.cpuMicros(),
    machine: machineCpu(),
  };
}

function between(a: Snapshot, b: Snapshot, interval: number, intervals: number): Window {
  const micros = b.mark.at - a.mark.at;
  const ops = b.mark.ops - a.mark.ops;
  const ours = b.server - a.server + (b.redis - a.redis) + (b.clients - a.clients);
  return {
    seconds: micros / 1e6,
    ops,
    rate: ops / (micros / 1e6),
    cpuPerOp: ops > 0 ? (b.server - a.server) / ops : NaN,
    redisCpuPerOp: ops > 0 ? (b.redis - a.redis) / ops : NaN,
    clientCpuPercent: ((b.mark.cpuMicros - a.mark.cpuMicros) / micros) * 100,
    otherCpuPercent: Math.max(0, (b.machine.processes - a.machine.processes - ours) / micros) * 100,
    stealCpuPercent: ((b.machine.steal - a.machine.steal) / micros) * 100,
    interval,
    intervals,
  };
}

/**
 * Lets the running load warm up, then measures `durationSeconds` as consecutive sub-windows of about a second:
 * the drivers' counters and every process's CPU time (server nodes, Redis, client drivers, and the whole machine)
 * at each boundary. Returns the sub-window in which other work on the machine took the least CPU: the machine is
 * shared, and a burst of someone else's work in one second should not decide a row.
 */
export async function measureWindow(
  target: RunningTarget,
  driver: DriverPool,
  timing: { warmupSeconds: number; durationSeconds: number },
): Promise<Window> {
  await sleep(timing.warmupSeconds);
  const intervals = Math.max(1, Math.floor(timing.durationSeconds));
  const snapshots = [await snapshot(target, driver, true)];
  for (let i = 1; i <= intervals; i++) {
    await sleep(timing.durationSeconds / intervals);
    snapshots.push(await snapshot(target, driver, i < intervals));
  }
  return pickCleanest(snapshots.slice(1).map((b, i) => between(snapshots[i]!, b, i, intervals)));
}

/** The window with the least CPU taken by others (other processes + steal); the earliest on a tie. */
export function pickCleanest(windows: Window[]): Window {
  if (windows.length === 0) throw new Error('no measurement window');
  const disturbance = (w: Window): number => w.otherCpuPercent + w.stealCpuPercent;
  return windows.reduce((best, w) => (disturbance(w) < disturbance(best) ? w : best));
}

/** Notes when other work took a noticeable share of the 2 cores during the window (the figures suffer). */
export function interferenceNotes(window: Window): string[] {
  const notes: string[] = [];
  if (window.otherCpuPercent >= 10) notes.push(`other processes ${window.otherCpuPercent.toFixed(0)} % CPU`);
  if (window.stealCpuPercent >= 10) notes.push(`steal ${window.stealCpuPercent.toFixed(0)} %`);
  return notes;
}
