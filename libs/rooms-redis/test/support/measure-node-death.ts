/**
 * Measures how long after a node's SIGKILL its members' `left` (node-down) events reach a survivor, over several kills
 * at random heartbeat phases. Not a test (timings vary): run it with
 * `cd libs/rooms-redis && npx tsx test/support/measure-node-death.ts [kills] [nodeTtlMs]`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisBackend } from '../../src/index.js';
import { RedisServer } from '@rooms-kit/testing';

const kills = Number(process.argv[2] ?? 8);
const ttl = Number(process.argv[3] ?? 3000);
const child = fileURLToPath(new URL('./node-child.ts', import.meta.url));
const server = new RedisServer();
await server.start();
const lefts: Array<{ id: string; at: number }> = [];
const survivor = new RedisBackend({ url: server.url, nodeId: `survivor-${process.pid}`, keyPrefix: 'measure:', nodeTtlMs: ttl });
await survivor.start({
  onEvent: (e) => void (e.type === 'left' && lefts.push({ id: e.member.id, at: Date.now() })),
  onNodeDown: () => undefined,
  onOrphans: () => undefined,
  onReconnected: () => undefined,
  onAvailability: () => undefined,
  onNodeMessage: () => null,
});
await survivor.groups.createGroup({ id: 'shared', allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false }, { id: 'sa', node: survivor.nodeId });
const results: number[] = [];
for (let i = 0; i < kills; i++) {
  const env = { ...process.env, CHILD_NODE_ID: `victim-${process.pid}-${i}`, CHILD_REDIS_URL: server.url, CHILD_PREFIX: 'measure:' };
  const proc = spawn(process.execPath, ['--import', 'tsx', child], {
    env: { ...env, CHILD_NODE_TTL_MS: String(ttl), CHILD_GROUP: 'shared', CHILD_OWN_GROUP: `own-${i}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => proc.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  await new Promise((resolve) => setTimeout(resolve, Math.random() * ttl * 0.5));
  lefts.length = 0;
  proc.kill('SIGKILL');
  const killedAt = Date.now();
  while (lefts.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  results.push(Math.max(...lefts.map((l) => l.at)) - killedAt);
  console.log(`kill ${i + 1}: ${results.at(-1)} ms`);
}
results.sort((x, y) => x - y);
const mean = Math.round(results.reduce((sum, x) => sum + x, 0) / results.length);
console.log(`nodeTtlMs ${ttl}, ${results.length} kills: min ${results[0]} ms, median ${results[Math.floor(results.length / 2)]} ms, mean ${mean} ms, max ${results.at(-1)} ms`);
await survivor.close();
await server.stop();
