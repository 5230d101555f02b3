import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';
import { PROCESS_READY_TIMEOUT_MS, WatchedProcess } from './watched-process.js';

/** The message tests fail with when the binary is missing. */
export const REDIS_MISSING = 'redis-server not found: install Redis (e.g. `apt-get install redis-server`) to run the Redis and cluster tests';

/** Throws `REDIS_MISSING` unless `redis-server` is on PATH. */
export function requireRedisServer(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(REDIS_MISSING);
}

/**
 * RedisServer: a `redis-server` process of the test's (or tool's) own, on a free port, without persistence, in a
 * temp dir, never the shared one on 6379.
 * `start()` waits until it answers PING (up to {@link PROCESS_READY_TIMEOUT_MS}; a failure shows its last output);
 * `kill()` is a SIGKILL (data lost); `restart()` starts it again, empty, on the same port; `stop()` kills it and
 * removes the temp dir.
 */
export class RedisServer {
  readonly binary: string;
  private readonly dir: string;
  private running: WatchedProcess | null = null;
  port = 0;

  /**
   * `extraArgs` are added to redis-server's arguments. With `detached`, the server runs in its own process group, so
   * a Ctrl-C in the terminal does not reach it and its owner decides when it stops (the cluster launcher).
   */
  constructor(
    private readonly extraArgs: readonly string[] = [],
    private readonly options: { detached?: boolean } = {},
  ) {
    this.binary = requireRedisServer();
    this.dir = mkdtempSync(join(tmpdir(), 'rooms-redis-test-'));
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the server (on a free port the first time, on the same port afterwards) and waits until it answers PING.
   * Rejects at once when it exits, or after {@link PROCESS_READY_TIMEOUT_MS}, showing its last output; it is
   * killed then.
   */
  async start(): Promise<void> {
    if (this.running) throw new Error('redis-server already running');
    if (this.port === 0) this.port = await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.extraArgs];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: this.options.detached ?? false });
    this.running = new WatchedProcess(child, `redis-server on port ${this.port}`);
    try {
      await this.running.waitUntil(`redis-server to answer PING on port ${this.port}`, () => ping(this.port), PROCESS_READY_TIMEOUT_MS);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** SIGKILLs the server and waits for it to exit. */
  async kill(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = null;
    running.child.kill('SIGKILL');
    await running.exited;
  }

  /** SIGSTOPs the server: connections stay open but nothing is answered (until `resume`). */
  pause(): void {
    this.running?.child.kill('SIGSTOP');
  }

  /** SIGCONTs a paused server. */
  resume(): void {
    this.running?.child.kill('SIGCONT');
  }

  /** Kills it and starts it again, empty, on the same port. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Kills it and removes its temp dir. Idempotent. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when something on `port` answers a RESP PING with +PONG. */
export function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}
