import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, PROCESS_READY_TIMEOUT_MS, waitUntil } from '@rooms-kit/testing';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const entry = fileURLToPath(new URL('../../../apps/gateway/src/main.ts', import.meta.url));

/** One line of a gateway's pino log. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** pino's levels. */
export const INFO = 30;
export const WARN = 40;

/**
 * LoggedGateway: a gateway node as a real process (like `GatewayProcess`) that logs at info and keeps every line it
 * logged, parsed, so a test can assert what a survivor said about the others. Stop it with `signal`/`kill`.
 */
export class LoggedGateway {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<void>;
  private exitedYet = false;

  private constructor(
    readonly id: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => (this.exitedYet = true));
    let rest = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) {
        try {
          this.lines.push(JSON.parse(part) as LogLine);
        } catch {
          // not a log line
        }
      }
    });
    child.stderr?.resume();
  }

  /** Starts node `id` on Redis `redisUrl` with `env`, and resolves once `/readyz` answers 200. */
  static async start(id: string, redisUrl: string, env: Record<string, string> = {}): Promise<LoggedGateway> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { ...process.env, ...env, ROOMS_REDIS_URL: redisUrl, ROOMS_NODE_ID: id, ROOMS_LOG_LEVEL: 'info', PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const node = new LoggedGateway(id, port, child);
    try {
      await waitUntil(
        `gateway ${id} to be ready`,
        async () => {
          if (node.exitedYet) throw new Error(`gateway ${id} exited while starting`);
          return (await fetch(`${node.httpUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => null))?.status === 200;
        },
        PROCESS_READY_TIMEOUT_MS,
        50,
      );
    } catch (error) {
      await node.kill();
      throw error;
    }
    return node;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/v1`;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The lines logged with message `msg` (and, when given, about node `about`). */
  logged(msg: string, about?: string): LogLine[] {
    return this.lines.filter((line) => line.msg === msg && (about === undefined || line.node === about));
  }

  /** Sends `signal` and resolves once the process exited. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.exitedYet) this.child.kill(signal);
    await this.exited;
  }

  /** SIGKILLs it (after a SIGCONT, should it be stopped). Idempotent. */
  async kill(): Promise<void> {
    if (!this.exitedYet) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
