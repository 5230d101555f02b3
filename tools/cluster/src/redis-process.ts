import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { waitUntil } from './wait-until.js';

/** Thrown when `redis-server` is not installed, with the way to install it. */
export class RedisMissingError extends Error {
  override readonly name = 'RedisMissingError';
  constructor() {
    super('redis-server not found on PATH: install Redis (e.g. `apt-get install redis-server`) to run the cluster and its tests');
  }
}

/**
 * RedisProcess: a `redis-server` of our own on a free port, without persistence, that can be SIGKILLed and
 * restarted (empty) on the same port to test Redis faults. `stop()` is idempotent and leaves no process.
 */
export class RedisProcess {
  readonly port: number;
  private child: ChildProcess | null = null;
  private readonly dir: string;

  private constructor(port: number) {
    this.port = port;
    this.dir = mkdtempSync(join(tmpdir(), 'rooms-redis-'));
  }

  /** Starts a Redis on a free port; resolves once it answers PING. */
  static async start(): Promise<RedisProcess> {
    if (spawnSync('redis-server', ['--version']).error) throw new RedisMissingError();
    const redis = new RedisProcess(await freePort());
    await redis.restart();
    return redis;
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child !== null;
  }

  /** Starts the server again (empty: nothing is persisted) on the same port; resolves once it answers PING. */
  async restart(): Promise<void> {
    if (this.child) return;
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' });
    this.child = child;
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    await waitUntil(`redis-server on port ${this.port}`, () => this.ping());
  }

  /** SIGKILLs the server (a crash); resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Kills the server and removes its directory. Idempotent. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      socket.setTimeout(500);
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
  }
}
