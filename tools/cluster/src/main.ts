/**
 * `npm run cluster -- [nodes] [--base-port 8081]`: a local cluster for trying rooms out: one Redis on a free port
 * and N gateway nodes on ports 8081, 8082, ... Ctrl-C (or SIGTERM) stops it promptly and exits 0: each node gets one
 * SIGINT (it closes its clients with 1001 and exits without waiting out the resume window: the whole cluster stops,
 * nobody could resume them), then Redis is stopped. Further signals while stopping are ignored (a terminal's Ctrl-C
 * reaches the whole process group, and tsx relays it once more); a node still running after
 * {@link NODE_STOP_BOUND_MS} is killed, and the launcher then exits 1.
 */
import { GatewayProcess } from './gateway-process.js';
import { RedisServer } from '@rooms-kit/testing';

/** How long a node may take to exit after its SIGINT before it is killed: far above a prompt stop (about a second). */
const NODE_STOP_BOUND_MS = 30_000;

const args = process.argv.slice(2);
const basePortIndex = args.indexOf('--base-port');
const basePort = basePortIndex >= 0 ? Number(args[basePortIndex + 1]) : 8081;
const count = Number(args.find((arg, i) => /^\d+$/.test(arg) && args[i - 1] !== '--base-port') ?? 3);
if (!Number.isInteger(count) || count < 1 || count > 32 || !Number.isInteger(basePort)) {
  console.error('usage: npm run cluster -- [nodes 1..32] [--base-port 8081]');
  process.exit(2);
}

// Nodes and Redis run in their own process groups: a Ctrl-C reaches only this launcher (and the npm/tsx processes
// above it), which stops the nodes with one SIGINT each and stops Redis after the last one exited.
const redis = new RedisServer([], { detached: true });
const nodes: GatewayProcess[] = [];
let stopping: Promise<void> | null = null;

/** Stops every node (one SIGINT each, killed past the bound), then Redis; resolves with the launcher's exit code. */
async function stopAll(): Promise<number> {
  console.log('\nstopping the nodes (clients get 1001) and Redis');
  const exits = await Promise.all(
    nodes.map(async (node) => {
      const bound = setTimeout(() => void node.kill(), NODE_STOP_BOUND_MS);
      const exit = await node.signal('SIGINT');
      clearTimeout(bound);
      return { port: node.port, ...exit };
    }),
  );
  await redis.stop();
  const failed = exits.filter((exit) => exit.code !== 0);
  console.log(failed.length === 0 ? 'stopped: every node exited 0' : `stopped; ${failed.length} node(s) did not exit 0: ${JSON.stringify(failed)}`);
  return failed.length === 0 ? 0 : 1;
}

/** The first signal (or a failed start) stops everything; later calls wait for that same stop. */
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    await starting.catch(() => undefined);
    const stopped = await stopAll();
    process.exit(stopped === 0 ? code : 1);
  })();
  return stopping;
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

/** Starts Redis and the nodes one by one; stops starting more once a stop began. */
async function startAll(): Promise<void> {
  await redis.start();
  for (let i = 0; i < count && stopping === null; i++) {
    const env = { ROOMS_REDIS_URL: redis.url, ROOMS_LOG_LEVEL: process.env.ROOMS_LOG_LEVEL ?? 'info' };
    nodes.push(await GatewayProcess.start({ port: basePort + i, env, stdio: 'inherit', detached: true }));
  }
}

const starting = startAll();
try {
  await starting;
} catch (error) {
  console.error('the cluster failed to start:', error instanceof Error ? error.message : error);
  await stop(1);
}

if (stopping === null) {
  console.log(`\nrooms cluster: Redis at ${redis.url}`);
  for (const node of nodes) console.log(`  node  ${node.wsUrl}   (${node.httpUrl}/readyz, /metrics; pid ${node.pid})`);
  console.log('Ctrl-C to stop.');
}
