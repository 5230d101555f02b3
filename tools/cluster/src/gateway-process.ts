import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitUntil } from '@rooms-kit/testing';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const entry = fileURLToPath(new URL('../../../apps/gateway/src/main.ts', import.meta.url));

/** Options of a gateway node process. */
export interface GatewayProcessOptions {
  /** Listening port; default a free one. */
  port?: number;
  /** Environment variables of PROTOCOL.md ("Running a node") for this node. */
  env?: Record<string, string>;
  /** Where its stdout/stderr go; default ignored. */
  stdio?: 'inherit' | 'ignore';
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
  private readonly child: ChildProcess;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitState: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(port: number, child: ChildProcess) {
    this.port = port;
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitState = { code, signal };
        resolve({ code, signal });
      });
    });
  }

  /** Spawns a node and waits until it is ready (`/readyz` 200). */
  static async start(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
    const port = options.port ?? (await freePort());
    const child = spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { ...process.env, ROOMS_LOG_LEVEL: 'warn', ...options.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: options.stdio ?? 'ignore',
      detached: options.detached ?? false,
    });
    const node = new GatewayProcess(port, child);
    try {
      await waitUntil(`gateway on port ${port} to be ready`, async () => {
        if (node.exitState) throw new Error(`gateway exited with ${JSON.stringify(node.exitState)}`);
        return (await fetch(`${node.httpUrl}/readyz`)).status === 200;
      }, 20_000, 50);
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
    return this.child.pid;
  }

  /** Sends a signal and resolves with how the process ended. */
  async signal(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exitState) this.child.kill(signal);
    return this.exited;
  }

  /** SIGKILLs the node (a crash). Idempotent. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.signal('SIGKILL');
  }
}
