/**
 * Preloaded (`node --import`) into every server process the benchmark starts, ours and the peers alike, so all are
 * measured the same way without changing their code. Over the fork IPC channel it answers `bench:stats` with
 * `process.memoryUsage()` (after a full GC when asked and `--expose-gc` is on), exits the process on `bench:exit`
 * (a normal exit, so `--cpu-prof` writes its profile), and exits it when the orchestrator goes away, so no server
 * outlives a run. Without an IPC channel it does nothing.
 */

/** Request from the orchestrator. */
export interface StatsRequest {
  type: 'bench:stats';
  id: number;
  gc: boolean;
}

/** Answer to a `StatsRequest`. */
export interface StatsReply {
  type: 'bench:stats';
  id: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

if (process.send && process.channel) {
  process.on('message', (message: unknown) => {
    const request = message as Partial<StatsRequest> | { type: 'bench:exit' } | null;
    if (request?.type === 'bench:exit') process.exit(0);
    if (request?.type !== 'bench:stats' || typeof request.id !== 'number') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (request.gc && gc) gc();
    const usage = process.memoryUsage();
    const reply: StatsReply = {
      type: 'bench:stats',
      id: request.id,
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      external: usage.external,
    };
    process.send?.(reply);
  });
  process.on('disconnect', () => process.exit(0));
  // The channel must not keep a server alive on its own (a server that wants to exit on SIGTERM still can).
  process.channel.unref();
}
