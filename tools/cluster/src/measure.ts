/**
 * `npm run cluster:measure`: figures of the Redis cluster, on this machine, with real processes:
 * 1. node death: SIGKILL of a node until a member on another node gets `left` (node-down), over several kills;
 * 2. Redis restart: Redis SIGKILLed and restarted empty until every member is listed again, without client action;
 * 3. cross-node broadcast latency at a fixed rate: a sender on node A, receivers on node B, p50/p99/max.
 * Options: `--kills N` (default 5), `--rate R` messages/s (default 1000), `--seconds S` (default 5), `--members M`
 * (members per node in the restart test, default 50). Everything it starts is stopped at the end.
 */
import { ProtocolClient, RedisServer, waitUntil } from '@rooms-kit/testing';
import { GatewayProcess } from './gateway-process.js';

const arg = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const kills = arg('kills', 5);
const rate = arg('rate', 1000);
const seconds = arg('seconds', 5);
const membersPerNode = arg('members', 50);
const ttl = 3000;

const redis = new RedisServer();
await redis.start();
const env = { ROOMS_REDIS_URL: redis.url, ROOMS_LOG_LEVEL: 'silent', ROOMS_NODE_TTL_MS: String(ttl), ROOMS_RATE_LIMIT: '0' };
const started: GatewayProcess[] = [];
const clients: ProtocolClient[] = [];
const startNode = async (): Promise<GatewayProcess> => {
  const node = await GatewayProcess.start({ env });
  started.push(node);
  return node;
};
const connect = async (node: GatewayProcess): Promise<ProtocolClient> => {
  const client = await ProtocolClient.connect(node.wsUrl);
  clients.push(client);
  return client;
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

try {
  const [a, b] = [await startNode(), await startNode()];
  if (!a || !b) throw new Error('nodes did not start');

  // 1. Node death.
  const deaths: number[] = [];
  const watcher = await connect(a);
  for (let i = 0; i < kills; i++) {
    const group = `death-${i}`;
    await watcher.ok('create', { group });
    const victim = await startNode();
    const member = await ProtocolClient.connect(victim.wsUrl);
    await member.ok('join', { group });
    // Kill at a random moment of the victim's heartbeat period.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * (ttl / 4)));
    const killedAt = performance.now();
    await victim.kill();
    await watcher.waitFor((m) => m.ev === 'left' && m.group === group && m.reason === 'node-down', `left node-down in ${group}`, 3 * ttl);
    deaths.push(performance.now() - killedAt);
  }
  deaths.sort((x, y) => x - y);

  // 2. Redis restart without persistence.
  const members: ProtocolClient[] = [];
  for (let i = 0; i < membersPerNode; i++) members.push(await connect(a), await connect(b));
  const owner = members[0];
  if (!owner) throw new Error('no members');
  await owner.ok('create', { group: 'restart' });
  for (const member of members.slice(1)) await member.ok('join', { group: 'restart' });
  await redis.kill();
  const downAt = performance.now();
  await redis.restart();
  const upAt = performance.now();
  await waitUntil(
    'every member listed again on both nodes',
    async () => {
      for (const asker of [members[0], members[1]]) {
        const reply = await asker?.request('members', { group: 'restart' });
        if (reply?.ok !== true || (reply.members as unknown[]).length !== members.length) return false;
      }
      return true;
    },
    30_000,
    20,
  );
  const convergedMs = performance.now() - upAt;
  await waitUntil('both nodes ready again', async () => {
    const statuses = await Promise.all([a, b].map(async (node) => (await fetch(`${node.httpUrl}/readyz`)).status));
    return statuses.every((status) => status === 200);
  });
  const readyMs = performance.now() - upAt;

  // 3. Cross-node latency at a fixed rate: sender on A, 10 receivers on B.
  const sender = await connect(a);
  await sender.ok('create', { group: 'latency' });
  const receivers = await Promise.all(Array.from({ length: 10 }, () => connect(b)));
  for (const receiver of receivers) await receiver.ok('join', { group: 'latency' });
  const latencies: number[] = [];
  for (const receiver of receivers) {
    receiver.ws.on('message', (raw) => {
      const frames: unknown = JSON.parse(String(raw));
      for (const m of (Array.isArray(frames) ? frames : [frames]) as Array<{ ev?: string; data?: { t?: number } }>) {
        if (m.ev === 'message' && typeof m.data?.t === 'number') latencies.push(performance.timeOrigin + performance.now() - m.data.t);
      }
    });
  }
  const total = rate * seconds;
  const startAt = performance.now();
  for (let sent = 0; sent < total; sent++) {
    const due = startAt + (sent * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sender.sendRaw(JSON.stringify({ op: 'broadcast', group: 'latency', data: { t: performance.timeOrigin + performance.now() } }));
  }
  await waitUntil('every message received', () => latencies.length >= total * receivers.length, 10_000);
  latencies.sort((x, y) => x - y);

  const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
  console.log(`\n| figure | value |\n| --- | --- |`);
  console.log(`| node death -> left node-down (ROOMS_NODE_TTL_MS=${ttl}, ${kills} kills) | min ${fmt(deaths[0] ?? NaN)}, median ${fmt(percentile(deaths, 50))}, max ${fmt(deaths.at(-1) ?? NaN)} |`);
  console.log(`| Redis SIGKILL + empty restart -> all ${members.length} members listed again on both nodes | ${fmt(convergedMs)} after Redis answered again; both nodes ready after ${fmt(readyMs)} (Redis was down ${fmt(upAt - downAt)}) |`);
  console.log(`| cross-node broadcast latency, ${rate} msg/s x 10 receivers on the other node, ${seconds} s | p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1) ?? NaN)} (${latencies.length} deliveries) |`);
} finally {
  await Promise.all(clients.map((client) => client.terminate()));
  await Promise.all(started.map((node) => node.kill()));
  await redis.stop();
}
