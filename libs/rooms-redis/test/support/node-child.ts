/**
 * A replicator in a process of its own, for node-death tests: started by the test with its settings in the
 * environment, it joins members to an existing group, creates a group of its own and saves a live session, prints
 * `ready` on stdout, then keeps running (heartbeating) until the test SIGKILLs it.
 */
import { RedisReplicator } from '../../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`missing ${name}`);
  return value;
};

const nodeId = env('CHILD_NODE_ID');
const node = new RedisReplicator({ url: env('CHILD_REDIS_URL'), nodeId, keyPrefix: env('CHILD_PREFIX'), nodeTtlMs: Number(env('CHILD_NODE_TTL_MS')) });
await node.start({
  onEvent: () => undefined,
  onNodeDown: () => undefined,
  onReconnected: () => undefined,
  onAvailability: () => undefined,
  onSessionTaken: () => undefined,
  onSessionKicked: () => undefined,
});
const shared = env('CHILD_GROUP');
await node.watch(shared);
await node.join(shared, { id: 'c1', node: nodeId });
await node.join(shared, { id: 'c2', node: nodeId, data: { from: 'child' } });
await node.createGroup(
  { id: env('CHILD_OWN_GROUP'), allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false },
  { id: 'c3', node: nodeId },
);
await node.saveSession({ id: 'child-session', node: nodeId, tokenHash: 'child-hash', groups: { [shared]: 0 }, expiresAt: null, windowMs: 30_000 });
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
