/**
 * `npm run cluster -- [nodes] [--base-port 8081]`: a local cluster for trying rooms out: one Redis on a free port
 * and N gateway nodes on ports 8081, 8082, ... Ctrl-C (or SIGTERM) drains the nodes and stops Redis.
 */
import { GatewayProcess } from './gateway-process.js';
import { RedisServer } from '@rooms-kit/testing';

const args = process.argv.slice(2);
const basePortIndex = args.indexOf('--base-port');
const basePort = basePortIndex >= 0 ? Number(args[basePortIndex + 1]) : 8081;
const count = Number(args.find((arg, i) => /^\d+$/.test(arg) && args[i - 1] !== '--base-port') ?? 3);
if (!Number.isInteger(count) || count < 1 || count > 32 || !Number.isInteger(basePort)) {
  console.error('usage: npm run cluster -- [nodes 1..32] [--base-port 8081]');
  process.exit(2);
}

// Nodes and Redis run in their own process groups: a Ctrl-C reaches only this launcher, which drains the nodes with
// one SIGTERM each (a second signal to a node would cut its drain short) and stops Redis after the last one.
const redis = new RedisServer([], { detached: true });
await redis.start();
const nodes: GatewayProcess[] = [];
let stopping = false;

async function stop(code: number): Promise<void> {
  if (stopping) {
    console.log('\nstopping at once');
    await Promise.all(nodes.map((node) => node.kill()));
    await redis.stop();
    process.exit(1);
  }
  stopping = true;
  console.log('\ndraining the nodes (clients get 1001; a node with clients waits up to ROOMS_RESUME_WINDOW_MS for them to resume elsewhere); Ctrl-C again to stop at once');
  const exits = await Promise.all(nodes.map((node) => node.signal('SIGTERM')));
  await redis.stop();
  const failed = exits.filter((exit) => exit.code !== 0);
  console.log(failed.length === 0 ? 'stopped: every node drained and exited 0' : `stopped; ${failed.length} node(s) did not exit 0: ${JSON.stringify(failed)}`);
  process.exit(failed.length === 0 ? code : 1);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  for (let i = 0; i < count; i++) {
    const env = { ROOMS_REDIS_URL: redis.url, ROOMS_LOG_LEVEL: process.env.ROOMS_LOG_LEVEL ?? 'info' };
    nodes.push(await GatewayProcess.start({ port: basePort + i, env, stdio: 'inherit', detached: true }));
  }
} catch (error) {
  console.error('a node failed to start:', error instanceof Error ? error.message : error);
  await stop(1);
}

console.log(`\nrooms cluster: Redis at ${redis.url}`);
for (const node of nodes) console.log(`  node  ${node.wsUrl}   (${node.httpUrl}/readyz, /metrics)`);
console.log('Ctrl-C to stop (drains the nodes).');
