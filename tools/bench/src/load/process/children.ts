import type { ChildProcess } from 'node:child_process';

/**
 * Every process the benchmark started and that has not exited yet. The exit hooks kill them all, so a finished,
 * failed or interrupted (Ctrl-C) run leaves no server, driver or redis-server behind.
 */
const running = new Set<ChildProcess>();

/** Registers a child so the exit hooks kill it; returns it. */
export function track<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('exit', () => running.delete(child));
  // A child that never started (ENOENT, EMFILE) emits 'error' and no 'exit'.
  child.once('error', () => {
    if (child.pid === undefined) running.delete(child);
  });
  return child;
}

/** SIGKILLs every tracked child at once (synchronous, so it also works inside an 'exit' handler). */
export function killAllNow(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** SIGKILLs one child and resolves once it has exited. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Number of children still running (a run must end with 0). */
export function runningChildren(): number {
  return running.size;
}

let installed = false;

/**
 * Kills every child when this process exits for any reason it can observe: normal exit, SIGINT / SIGTERM / SIGHUP,
 * an uncaught exception or an unhandled rejection. Idempotent.
 */
export function installExitHooks(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping every process the benchmark started`);
      killAllNow();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
  const fail = (e: unknown): void => {
    console.error('benchmark failed:', e);
    killAllNow();
    process.exit(1);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}
