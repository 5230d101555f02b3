/**
 * A backend in a process of its own, for node-death tests: started by the test with its settings in the
 * environment, it joins members to an existing group, creates a group of its own and saves a live session, prints
 * `ready` on stdout, then keeps running (heartbeating) until the test SIGKILLs it. Like a kernel, it re-asserts its
 * groups, members and session on `onReconnected` (after a stall that outlived its liveness key, say) and then prints
 * `reasserted`.
 */
import type { GroupSnapshot, MemberInfo, SessionRecord } from '@rooms-kit/core';
import { RedisBackend } from '../../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`missing ${name}`);
  return value;
};

const nodeId = env('CHILD_NODE_ID');
const node = new RedisBackend({ url: env('CHILD_REDIS_URL'), nodeId, keyPrefix: env('CHILD_PREFIX'), nodeTtlMs: Number(env('CHILD_NODE_TTL_MS')) });
const known: GroupSnapshot[] = [];
let session: SessionRecord | null = null;

async function reassert(): Promise<void> {
  await node.groups.reassert(known);
  if (session) await node.sessions.save(session);
  process.stdout.write('reasserted\n');
}

await node.start({
  onEvent: () => undefined,
  onNodeDown: () => undefined,
  onOrphans: () => undefined,
  onReconnected: () => void reassert().catch((error: unknown) => process.stderr.write(`reassert failed: ${String(error)}\n`)),
  onAvailability: () => undefined,
  onNodeMessage: () => null,
});
const shared = env('CHILD_GROUP');
const watched = await node.groups.watch(shared);
if (!watched) throw new Error(`group ${shared} does not exist`);
const mine: MemberInfo[] = [
  { id: 'c1', node: nodeId },
  { id: 'c2', node: nodeId, data: { from: 'child' } },
];
for (const member of mine) await node.groups.join(shared, member);
known.push({ ...watched, members: mine });
known.push(
  await node.groups.createGroup(
    { id: env('CHILD_OWN_GROUP'), allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false },
    { id: 'c3', node: nodeId },
  ),
);
session = { id: 'child-session', node: nodeId, tokenHash: 'child-hash', groups: { [shared]: 0 }, expiresAt: null, windowMs: 30_000 };
await node.sessions.save(session);
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
