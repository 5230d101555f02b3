import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitUntil } from '@rooms-kit/testing';
import { plainEnvironment } from './run-command.js';

/** How long a start may take: the machine may be busy with other builds and tests. */
const START_TIMEOUT_MS = 60_000;
/** How long a drain may take after SIGTERM before the process is killed. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * The production gateway (a copy of `dist/apps/gateway`) run as a user would: `node main.js` in its directory with
 * plain `node`, on a port the system picks (`PORT=0`), learnt from its `gateway serving` log line.
 */
export class BuiltGateway {
  readonly port: number;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  private constructor(child: ChildProcess, port: number, exited: Promise<void>) {
    this.child = child;
    this.port = port;
    this.exited = exited;
  }

  /**
   * Starts `node main.js` in `dir` and resolves once `/readyz` answers 200 (within 60 s). Rejects with the
   * process's output when it exits or does not get ready in time; the process is stopped then.
   */
  static async start(dir: string): Promise<BuiltGateway> {
    const child = spawn(process.execPath, ['main.js'], {
      cwd: dir,
      env: plainEnvironment({ PORT: '0', HOST: '127.0.0.1', ROOMS_LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code) => {
        exitCode = code;
        resolve();
      });
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    let port: number | null = null;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output += `${line}\n`;
      try {
        const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
        if (entry.msg === 'gateway serving' && typeof entry.port === 'number') port = entry.port;
      } catch {
        // Not a log line of pino's: kept in the output for the failure message only.
      }
    });

    const fail = async (error: unknown): Promise<never> => {
      await stopProcess(child, exited);
      throw new Error(`the built gateway did not get ready: ${String(error)}\n--- its output:\n${output}`);
    };
    try {
      const ready = await waitUntil('the built gateway to serve and be ready', async () => {
        if (exitCode !== undefined) throw new Error(`it exited with ${exitCode}`);
        if (port === null) return null;
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        return response.status === 200 ? port : null;
      }, START_TIMEOUT_MS, 100);
      return new BuiltGateway(child, ready, exited);
    } catch (error) {
      return fail(error);
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

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS)));
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}
