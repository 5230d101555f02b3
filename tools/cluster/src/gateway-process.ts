import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, PROCESS_READY_TIMEOUT_MS, WatchedProcess } from '@rooms-kit/testing';
import type { ProcessExit } from '@rooms-kit/testing';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const entry = fileURLToPath(new URL('../../../apps/gateway/src/main.ts', import.meta.url));

/** Options of a gateway node process. */
export interface GatewayProcessOptions {
  /** Listening port; default a free one. */
  port?: number;
  /** Environment variables of docs/protocol.md ("Environment") for this node. */
  env?: Record<string, string>;
  /**
   * Where its stdout/stderr go: `inherit` prints them in this terminal (the launcher); the default `tail` keeps the
   * last 8 KiB of them, shown when the node fails to start (tests).
   */
  stdio?: 'inherit' | 'tail';
  /**
   * Run in its own process group, so a Ctrl-C in the terminal reaches only the owner, which then drains the node
   * with one SIGTERM (the launcher). Default false: tests keep nodes in their group.
   */
  detached?: boolean;
}

/**
 * GatewayProcess: one gateway node as a real process (`node --import tsx apps/gateway/src/main.ts`), so SIGKILL is a
 * real crash and SIGTERM a real drain. `start` resolves once `/readyz` answers 200.
 */
export class GatewayProcess {
  readonly port: number;
  private readonly watched: WatchedProcess;

  private constructor(port: number, watched: WatchedProcess) {
    this.port = port;
    this.watched = watched;
  }

  /**
   * Spawns a node and waits until it is ready (`/readyz` 200), for up to {@link PROCESS_READY_TIMEOUT_MS}: a busy
   * machine can take long to start `node --import tsx`. Rejects at once when the node exits, and after that time,
   * naming the port and showing the node's last output (unless inherited); the node is killed then.
   */
  static async start(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
    const port = options.port ?? (await freePort());
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { ...process.env, ROOMS_LOG_LEVEL: 'warn', ...options.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: options.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    });
    const node = new GatewayProcess(port, new WatchedProcess(child, `the gateway on port ${port}`));
    try {
      // Each probe is bounded, so a node that accepts but never answers still ends in the wait's own failure.
      const ready = async (): Promise<boolean> => (await fetch(`${node.httpUrl}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200;
      await node.watched.waitUntil(`the gateway on port ${port} to be ready (/readyz 200)`, ready, PROCESS_READY_TIMEOUT_MS, 50);
    } catch (error) {
      await node.kill();
      throw error;
    }
    return node;
  }

  /** `http://127.0.0.1:<port>` */
  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `ws://127.0.0.1:<port>/v1` */
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/v1`;
  }

  /** The process id. */
  get pid(): number | undefined {
    return this.watched.child.pid;
  }

  /** Sends a signal and resolves with how the process ended. */
  async signal(signal: NodeJS.Signals): Promise<ProcessExit> {
    if (!this.watched.exit) this.watched.child.kill(signal);
    return this.watched.exited;
  }

  /** SIGKILLs the node (a crash). Idempotent. */
  kill(): Promise<ProcessExit> {
    return this.signal('SIGKILL');
  }
}
