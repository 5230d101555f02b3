/**
 * The node scripts of the Redis backend: the cleanup lock (`CleanupLock`) and the cluster bus (`RedisClusterBus`).
 * Each script's doc lists its keys (`KEYS`) and arguments (`ARGV`).
 */

/** KEYS: lock. ARGV: 1 owner token, 2 ttl ms. Extends the lock while `token` owns it. Returns 1, or 0 when not the owner. */
const RENEW_LOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** KEYS: lock. ARGV: 1 owner token. Deletes the lock only while `token` owns it. Returns 1 when deleted. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/**
 * KEYS: the target node's liveness key. ARGV: 1 the target's control channel, 2 message. Publishes the message (classic
 * PUBLISH, also on Redis Cluster) only while the target is alive. Returns -1 when the target is not alive, else
 * PUBLISH's count.
 */
const SEND_TO_NODE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`;

/** The node scripts by name. */
export const NODE_SCRIPTS = {
  renewLock: RENEW_LOCK,
  releaseLock: RELEASE_LOCK,
  sendToNode: SEND_TO_NODE,
} as const;
