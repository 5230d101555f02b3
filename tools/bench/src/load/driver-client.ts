import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { DriverCommand, DriverReply } from './ipc.js';
import { childEnv, loadFile, tsxImportArgs } from './paths.js';
import { stopChild, track } from './process/children.js';
import { profileArgs } from './process/server-node.js';
import { processCpuMicros } from './process/proc-stats.js';

/** Distributes `Omit` over a union, so each command keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * The orchestrator's handle on one client driver process (driver/main.ts, forked with its own event loop and
 * sockets). `call` sends a command and resolves with the driver's result; every call fails if the driver exits.
 */
export class DriverClient {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exitReason: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly graceful: boolean,
  ) {
    child.on('message', (message: DriverReply) => {
      const entry = this.pending.get(message.id);
      if (!entry) return;
      this.pending.delete(message.id);
      if (message.ok) entry.resolve(message.result);
      else entry.reject(new Error(message.error));
    });
    child.once('exit', (code, signal) => {
      this.exitReason = `client driver exited (${code ?? signal})`;
      for (const entry of this.pending.values()) entry.reject(new Error(this.exitReason));
      this.pending.clear();
    });
  }

  /**
   * Forks a driver (a 4 GB heap: 10,000 Socket.IO clients are heavy); with `profile`, under `--cpu-prof`, and
   * `stop` then lets it exit normally so the profile gets written.
   */
  static start(profile?: { dir: string; name: string }): DriverClient {
    const child = track(
      fork(loadFile('driver/main.ts'), [], {
        execArgv: ['--max-old-space-size=4096', ...profileArgs(profile), ...tsxImportArgs()],
        env: childEnv({}),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    return new DriverClient(child, profile !== undefined);
  }

  /** The driver's pid (for `pgrep`-style checks). */
  get pid(): number {
    return this.child.pid!;
  }

  /** The driver's CPU time so far, µs, from /proc. */
  cpuMicros(): number {
    return processCpuMicros(this.child.pid!);
  }

  /** Sends a command; rejects on the driver's error, on its exit, or after `timeoutMs`. */
  call<T>(command: WithoutId<DriverCommand>, timeoutMs = 120_000): Promise<T> {
    if (this.exitReason) return Promise.reject(new Error(this.exitReason));
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`client driver: no answer to ${command.type} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...command, id } as DriverCommand);
    });
  }

  /** Kills the driver (its sockets close with it; when profiling, lets it exit normally) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.graceful && this.child.connected && this.child.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.disconnect();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    return stopChild(this.child);
  }
}
