import { DriverClient } from './driver-client.js';
import { LatencyHistogram } from './histogram.js';
import type { Mark, PhaseResult, StopResult } from './ipc.js';

/** Counters summed over every driver at one instant. */
export interface PoolMark {
  /** Mean of the drivers' clocks, µs. */
  at: number;
  ops: number;
  /** CPU time of all drivers together, µs. */
  cpuMicros: number;
}

/** A load phase's outcome over every driver: summed loss, merged latency (µs). */
export interface PoolPhase {
  lost: number;
  duplicates: number;
  latency: { count: number; p50: number; p99: number; max: number };
  errors: number;
  closed: number;
  drained: boolean;
  firstError?: string;
}

/**
 * The client driver processes of one scenario run. Commands go to all of them at once; their answers are combined
 * (counters summed, histograms merged), so the runner sees one client whatever the number of processes.
 */
export class DriverPool {
  readonly drivers: DriverClient[];

  constructor(count: number, profile?: { dir: string; name: string }) {
    this.drivers = Array.from({ length: count }, (_, d) =>
      DriverClient.start(profile ? { dir: profile.dir, name: `${profile.name}-${d + 1}` } : undefined),
    );
  }

  get size(): number {
    return this.drivers.length;
  }

  /** Marks every driver (see `mark` in ipc.ts: `record` starts the next latency interval) and sums the counters. */
  async mark(record: boolean): Promise<PoolMark> {
    const marks = await Promise.all(this.drivers.map((d) => d.call<Mark>({ type: 'mark', record })));
    return {
      at: marks.reduce((sum, m) => sum + m.at, 0) / marks.length,
      ops: marks.reduce((sum, m) => sum + m.ops, 0),
      cpuMicros: marks.reduce((sum, m) => sum + m.cpuMicros, 0),
    };
  }

  /**
   * Stops the message load everywhere, then drains every driver against the total of what all of them sent.
   * Latency is that of recording interval `interval` (see `mark`), merged over the drivers.
   */
  async stopAndDrain(drainMs: number, interval: number): Promise<PoolPhase> {
    const stops = await Promise.all(this.drivers.map((d) => d.call<StopResult>({ type: 'stop' })));
    const sent = stops[0]!.sent.map((_, i) => stops.reduce((sum, s) => sum + (s.sent[i] ?? 0), 0));
    const phases = await Promise.all(
      this.drivers.map((d) => d.call<PhaseResult>({ type: 'drain', sent, drainMs }, drainMs + 60_000)),
    );
    const histogram = new LatencyHistogram();
    for (const phase of phases) {
      const recorded = phase.latency[interval];
      if (recorded) histogram.merge(recorded);
    }
    const firstError = phases.find((p) => p.firstError !== undefined)?.firstError;
    return {
      lost: phases.reduce((sum, p) => sum + p.lost, 0),
      duplicates: phases.reduce((sum, p) => sum + p.duplicates, 0),
      latency: {
        count: histogram.count,
        p50: histogram.percentile(50),
        p99: histogram.percentile(99),
        max: histogram.max,
      },
      errors: phases.reduce((sum, p) => sum + p.errors, 0),
      closed: phases.reduce((sum, p) => sum + p.closed, 0),
      drained: phases.every((p) => p.drained),
      ...(firstError === undefined ? {} : { firstError }),
    };
  }

  /** CPU time of every driver process together so far, µs, from /proc. */
  cpuMicros(): number {
    return this.drivers.reduce((sum, d) => sum + d.cpuMicros(), 0);
  }

  /** Stops every driver process. */
  async stop(): Promise<void> {
    await Promise.all(this.drivers.map((d) => d.stop()));
  }
}
