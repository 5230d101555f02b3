import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PROCESS_READY_TIMEOUT_MS, WatchedProcess } from '@rooms-kit/testing';
import type { ProcessExit } from '@rooms-kit/testing';
import { plainEnvironment } from './run-command.js';

/** How long a drain may take after SIGTERM before the process is killed. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * The production gateway (a copy of `dist/apps/gateway`) run as a user would: `node main.js` in its directory with
 * plain `node`, on a port the system picks (`PORT=0`), learnt from its `gateway serving` log line.
 */
export class BuiltGateway {
  readonly port: number;
  private readonly child: ChildProcess;
  private readonly exited: Promise<ProcessExit>;

  private constructor(child: ChildProcess, port: number, exited: Promise<ProcessExit>) {
    this.child = child;
    this.port = port;
    this.exited = exited;
  }

  /**
   * Starts `node main.js` in `dir` and resolves once `/readyz` answers 200 (within PROCESS_READY_TIMEOUT_MS: the
   * machine may be busy with other builds and tests). Rejects at once when the process exits, and when it does not get
   * ready in time, with its last output; the process is stopped then.
   */
  static async start(dir: string): Promise<BuiltGateway> {
    const child = spawn(process.execPath, ['main.js'], {
      cwd: dir,
      env: plainEnvironment({ PORT: '0', HOST: '127.0.0.1', ROOMS_LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const watched = new WatchedProcess(child, 'the built gateway');
    let port: number | null = null;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
        if (entry.msg === 'gateway serving' && typeof entry.port === 'number') port = entry.port;
      } catch {
        // Not a log line of pino's: it is in the watched output, for a failure message.
      }
    });

    try {
      const ready = await watched.waitUntil(
        'the built gateway to serve (its "gateway serving" line) and be ready (/readyz 200)',
        async () => {
          if (port === null) return null;
          const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) });
          return response.status === 200 ? port : null;
        },
        PROCESS_READY_TIMEOUT_MS,
        100,
      );
      return new BuiltGateway(child, ready, watched.exited);
    } catch (error) {
      await stopProcess(child, watched.exited);
      throw new Error(`the built gateway did not get ready: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  /** `ws://127.0.0.1:<port>` (the SDK adds the `/v1` path). */
  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Drains the gateway (SIGTERM), killing it when it takes over 10 s; resolves once it exited. Idempotent. */
  stop(): Promise<void> {
    return stopProcess(this.child, this.exited);
  }
}

async function stopProcess(child: ChildProcess, exited: Promise<ProcessExit>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS)));
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}
