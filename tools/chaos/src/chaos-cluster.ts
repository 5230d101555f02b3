import { randomBytes } from 'node:crypto';
import { GatewayProcess } from '@rooms-kit/cluster';
import { RedisServer } from '@rooms-kit/testing';
import type { ProcessExit } from '@rooms-kit/testing';
import { NodeRouter } from './node-router.js';
import type { ExitRecord } from './phase-tally.js';

/** The nodes of a run: the three. */
export const NODE_COUNT = 3;
/** How long a drain may take: the nodes' resume window (30 s, for clients to resume elsewhere) and a margin. */
export const DRAIN_BOUND_MS = 60_000;

/** What the run asked of a node process, which decides whether its exit was expected. */
type Asked = 'kill' | 'drain' | 'drain-overran';

/** How a chaos cluster's nodes run. */
export interface ChaosClusterOptions {
  /** The nodes' output goes to this terminal (else it is kept quiet; `GatewayProcess` shows it if a start fails). */
  nodeLogs: boolean;
  /** Hears of every node exit but those of `close()`. */
  onExit: (record: ExitRecord) => void;
}

/**
 * ChaosCluster: one Redis (its own, on a free port) and {@link NODE_COUNT} gateway node processes on it, with the
 * faults of a run: SIGKILL, SIGSTOP/SIGCONT and SIGTERM (drain) of a node and its restart on the same port, SIGKILL of
 * Redis and its empty restart. It owns the {@link NodeRouter} (a node is out of rotation from the moment it is
 * killed or drained until it is ready again) and watches every node's exit: one the run did not ask for (a crash, a
 * drain that did not end with code 0 within {@link DRAIN_BOUND_MS}) is reported as unexpected. `close()` stops
 * everything, also halfway through a fault.
 */
export class ChaosCluster {
  readonly router: NodeRouter;
  readonly #nodes: Array<GatewayProcess | null>;
  /** Each node's port, kept across restarts (the router's and the clients' URLs stay valid). */
  readonly #ports: number[];
  readonly #asked = new Map<GatewayProcess, Asked>();
  #closing: Promise<void> | null = null;

  private constructor(
    private readonly redis: RedisServer,
    nodes: GatewayProcess[],
    /** The bearer token of the nodes' admin API (random per run). */
    readonly adminToken: string,
    private readonly options: ChaosClusterOptions,
  ) {
    this.#nodes = nodes;
    this.#ports = nodes.map((node) => node.port);
    this.router = new NodeRouter(this.#ports);
    for (const [i, node] of nodes.entries()) this.#watch(i, node);
  }

  /**
   * Starts Redis, then the nodes (in parallel, each bounded by the readiness wait of `GatewayProcess`). When one
   * fails, everything started is stopped and the error is thrown.
   */
  static async start(options: ChaosClusterOptions): Promise<ChaosCluster> {
    const redis = new RedisServer();
    const adminToken = randomBytes(16).toString('hex');
    const started: GatewayProcess[] = [];
    try {
      await redis.start();
      const starts = await Promise.allSettled(
        Array.from({ length: NODE_COUNT }, async () => {
          const node = await GatewayProcess.start({ env: nodeEnv(redis.url, adminToken), stdio: stdio(options.nodeLogs) });
          started.push(node);
          return node;
        }),
      );
      for (const start of starts) if (start.status === 'rejected') throw start.reason;
      return new ChaosCluster(redis, starts.map((start) => (start as PromiseFulfilledResult<GatewayProcess>).value), adminToken, options);
    } catch (error) {
      await Promise.all(started.map((node) => node.kill()));
      await redis.stop();
      throw error;
    }
  }

  /** Where everything listens: "Redis on port P; nodes on ports A, B, C". */
  describe(): string {
    return `Redis on port ${this.redis.port}; nodes on ports ${this.#ports.join(', ')}`;
  }

  /** `http://127.0.0.1:<port>` of every node that runs, by index (for the admin API). */
  running(): Array<{ index: number; httpUrl: string }> {
    return this.#nodes.flatMap((node, index) => (node ? [{ index, httpUrl: node.httpUrl }] : []));
  }

  /** SIGKILLs node `i` (out of rotation first, so its clients resume elsewhere). */
  async kill(i: number): Promise<void> {
    const node = this.#node(i);
    this.router.markDown(i);
    this.#asked.set(node, 'kill');
    this.#nodes[i] = null;
    await node.kill();
  }

  /** SIGSTOPs node `i` for `ms`, then SIGCONTs it (it stays in rotation: nobody can tell yet). */
  async stall(i: number, ms: number): Promise<void> {
    const pid = this.#node(i).pid;
    if (pid === undefined) throw new Error(`node ${i + 1} has no pid`);
    process.kill(pid, 'SIGSTOP');
    try {
      await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      // Also when closing: a stopped process that is then SIGKILLed dies all the same.
      if (this.#nodes[i]?.pid === pid) process.kill(pid, 'SIGCONT');
    }
  }

  /**
   * SIGTERMs node `i` (out of rotation first, so its clients, closed with 1001, resume elsewhere) and waits for its
   * exit; a drain that runs past {@link DRAIN_BOUND_MS} is cut short with SIGKILL (an unexpected exit).
   */
  async drain(i: number): Promise<void> {
    const node = this.#node(i);
    this.router.markDown(i);
    this.#asked.set(node, 'drain');
    this.#nodes[i] = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overran = new Promise<'overran'>((resolve) => (timer = setTimeout(() => resolve('overran'), DRAIN_BOUND_MS)));
    const outcome = await Promise.race([node.signal('SIGTERM'), overran]);
    clearTimeout(timer);
    if (outcome === 'overran') {
      this.#asked.set(node, 'drain-overran');
      await node.kill();
    }
  }

  /** Starts node `i` again on its port, a new process (a new node id), and puts it back in rotation once ready. */
  async restart(i: number): Promise<void> {
    if (this.#nodes[i]) throw new Error(`node ${i + 1} is running`);
    const node = await GatewayProcess.start({ port: this.#ports[i], env: nodeEnv(this.redis.url, this.adminToken), stdio: stdio(this.options.nodeLogs) });
    if (this.#closing) {
      await node.kill();
      return;
    }
    this.#nodes[i] = node;
    this.#watch(i, node);
    this.router.markUp(i);
  }

  /** SIGKILLs Redis (all its data is lost) and starts it again, empty, on the same port. */
  async restartRedis(): Promise<void> {
    await this.redis.kill();
    this.options.onExit({ name: 'redis', how: 'SIGKILL', expected: true });
    await this.redis.start();
  }

  /** Stops every node (SIGKILL: a stopped one too) and Redis. Idempotent; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const nodes = this.#nodes.filter((node): node is GatewayProcess => node !== null);
      this.#nodes.fill(null);
      await Promise.all(nodes.map((node) => node.kill()));
      await this.redis.stop();
    })();
    return this.#closing;
  }

  /** SIGKILLs every node process and Redis at once, synchronously: the last resort of a process that is exiting. */
  killNow(): void {
    // kill() sends its SIGKILL before its first await: the signal is sent now, only the wait for the exit is dropped.
    void this.redis.kill();
    for (const node of this.#nodes) {
      const pid = node?.pid;
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  #node(i: number): GatewayProcess {
    const node = this.#nodes[i];
    if (!node) throw new Error(`node ${i + 1} is not running`);
    return node;
  }

  /**
   * Reports node `i`'s exit. `GatewayProcess.signal` resolves with the process's exit; SIGCONT does nothing to a
   * running process, so sending it is how the exit is watched without touching the node.
   */
  #watch(i: number, node: GatewayProcess): void {
    void node.signal('SIGCONT').then((exit) => {
      if (this.#closing) return;
      if (this.#nodes[i] === node) {
        this.#nodes[i] = null;
        this.router.markDown(i);
      }
      this.options.onExit(exitRecord(`node ${i + 1}`, this.#asked.get(node), exit));
    });
  }
}

function exitRecord(name: string, asked: Asked | undefined, exit: ProcessExit): ExitRecord {
  const how = exit.signal ?? `code ${exit.code}`;
  if (asked === 'kill') return { name, how, expected: exit.signal === 'SIGKILL' };
  if (asked === 'drain') return { name, how: `drain, ${how}`, expected: exit.code === 0 };
  if (asked === 'drain-overran') return { name, how: `drain over ${DRAIN_BOUND_MS / 1000} s, SIGKILL`, expected: false };
  return { name, how: `unasked: ${how}`, expected: false };
}

function nodeEnv(redisUrl: string, adminToken: string): Record<string, string> {
  const env: Record<string, string> = { ROOMS_REDIS_URL: redisUrl, ROOMS_ADMIN_TOKEN: adminToken };
  if (process.env.ROOMS_LOG_LEVEL) env.ROOMS_LOG_LEVEL = process.env.ROOMS_LOG_LEVEL;
  return env;
}

function stdio(nodeLogs: boolean): 'inherit' | 'tail' {
  return nodeLogs ? 'inherit' : 'tail';
}
