import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LivenessPolicy, silentLogger } from '@rooms-kit/core';
import type { GroupId, GroupSpec } from '@rooms-kit/core';
import { RedisServer, waitUntil } from '@rooms-kit/testing';
import { CleanupLock } from '../src/cleanup-lock.js';
import { GroupStore } from '../src/group-store.js';
import { RedisKeys } from '../src/keys.js';
import { NodeLiveness } from '../src/liveness.js';
import { cleanUpDeadNode } from '../src/node-cleanup.js';
import type { NodeCleanupDeps } from '../src/node-cleanup.js';
import type { RedisCaller } from '../src/script-runner.js';
import { ScriptRunner } from '../src/script-runner.js';
import { scriptSources } from '../src/scripts.js';
import { RecordingLogger } from './support/nodes.js';

const server = new RedisServer();
let raw: Redis;
let test = 0;
const stopping: Array<() => Promise<void>> = [];

beforeAll(async () => {
  await server.start();
  raw = new Redis(server.url);
}, 90_000);
afterEach(async () => {
  await Promise.all(stopping.splice(0).map((stop) => stop()));
});
afterAll(async () => {
  raw.disconnect();
  await server.stop();
});

function spec(id: string): GroupSpec {
  return { id, allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
}

/** A survivor's cleanup dependencies on the test's Redis, with its own prefix; `redis` may be wrapped. */
function survivor(keys: RedisKeys, self: string, lockMs: number, redis: RedisCaller = raw): NodeCleanupDeps & { orphans: GroupId[] } {
  const runner = new ScriptRunner(redis, scriptSources('PUBLISH'));
  const orphans: GroupId[] = [];
  return {
    self,
    redis,
    runner,
    groups: new GroupStore(runner, keys, true, self, { maxCount: 1000, maxBytes: 1 << 20 }, silentLogger),
    keys,
    now: Date.now,
    lockMs,
    logger: silentLogger,
    onOrphans: (groups) => orphans.push(...groups),
    orphans,
  };
}

/** A dead node `dead` as the store holds it: the only member of `solo`, one of two in `shared`, a live session. */
async function deadNodeState(keys: RedisKeys): Promise<void> {
  const store = survivor(keys, 'setup', 1000).groups;
  await store.create(spec('solo'), { id: 'd1', node: 'dead' });
  await store.create(spec('shared'), { id: 'other', node: 'alive' });
  await store.join('shared', { id: 'd2', node: 'dead' });
  await raw.sadd(keys.nodes, 'dead');
  await raw.hset(keys.session('ds'), 'rec', '{"groups":{}}', 'node', 'dead', 'tok', 'h', 'exp', '', 'win', '30000', 'died', '');
  await raw.sadd(keys.nodeSessions('dead'), 'ds');
}

function newKeys(): RedisKeys {
  return new RedisKeys(`cleanup${++test}:`);
}

describe('CleanupLock', () => {
  it('renews and releases only while its own token holds the lock (compare-and-delete)', async () => {
    const keys = newKeys();
    const deps = survivor(keys, 'x', 5000);
    const first = new CleanupLock(raw, deps.runner, keys, 'dead', 'first', 5000);
    const second = new CleanupLock(raw, deps.runner, keys, 'dead', 'second', 5000);
    expect(await first.acquire()).toBe(true);
    expect(await second.acquire()).toBe(false);
    expect(await raw.pttl(keys.cleanupLock('dead'))).toBeLessThanOrEqual(5000);
    expect(await first.renew()).toBe(true);
    // The first owner stalls past the lock's life; the second takes it.
    await raw.del(keys.cleanupLock('dead'));
    expect(await second.acquire()).toBe(true);
    expect(await first.renew()).toBe(false);
    expect(await first.release()).toBe(false);
    expect(await raw.get(keys.cleanupLock('dead'))).toMatch(/^second:/);
    expect(await second.release()).toBe(true);
    expect(await raw.exists(keys.cleanupLock('dead'))).toBe(0);
  });
});

describe('cleanUpDeadNode', () => {
  it("removes the node's members, reports the groups left empty, marks its sessions and forgets it", async () => {
    const keys = newKeys();
    await deadNodeState(keys);
    const deps = survivor(keys, 'b', 3000);
    expect(await cleanUpDeadNode(deps, 'dead')).toBe('done');
    expect(deps.orphans).toEqual(['solo']);
    expect(await raw.hkeys(keys.group('solo').members)).toEqual([]);
    expect(await raw.hkeys(keys.group('shared').members)).toEqual(['other']);
    expect(await raw.hget(keys.session('ds'), 'died')).not.toBe('');
    expect(await raw.exists(keys.nodeGroups('dead'), keys.nodeSessions('dead'), keys.cleanupLock('dead'))).toBe(0);
    expect(await raw.sismember(keys.nodes, 'dead')).toBe(0);
    expect(await raw.zscore(keys.deadNodes, 'dead')).not.toBeNull();
  });

  it('stops and leaves the indexes alone when the node beats again (it had stalled, not died)', async () => {
    const keys = newKeys();
    await deadNodeState(keys);
    await raw.set(keys.node('dead'), '1', 'PX', 60_000);
    const deps = survivor(keys, 'b', 3000);
    expect(await cleanUpDeadNode(deps, 'dead')).toBe('alive');
    expect(deps.orphans).toEqual([]);
    expect((await raw.smembers(keys.nodeGroups('dead'))).sort()).toEqual(['shared', 'solo']);
    expect(await raw.smembers(keys.nodeSessions('dead'))).toEqual(['ds']);
    expect(await raw.sismember(keys.nodes, 'dead')).toBe(1);
    expect(await raw.hget(keys.session('ds'), 'died')).toBe('');
    expect(await raw.exists(keys.cleanupLock('dead'))).toBe(0);
  });

  it('is taken over once the lock expires (about the node TTL) when its cleaner dies halfway', async () => {
    const keys = newKeys();
    await deadNodeState(keys);
    const lockMs = 400;
    // The first cleaner removes the members, then never hears from Redis again (its process died): what it reported
    // to its own kernel died with it.
    let dead = false;
    let died!: () => void;
    const dying = new Promise<void>((resolve) => (died = resolve));
    const hanging: RedisCaller = {
      call: (command, ...args) => {
        if (command === 'SMEMBERS' && args[0] === keys.nodeSessions('dead')) {
          dead = true;
          died();
        }
        if (dead) return new Promise(() => undefined);
        return raw.call(command, ...args);
      },
    };
    const first = survivor(keys, 'first', lockMs, hanging);
    void cleanUpDeadNode(first, 'dead');
    await dying;
    expect(first.orphans).toEqual(['solo']);
    expect(await raw.hkeys(keys.group('solo').members)).toEqual([]);
    expect(await raw.exists(keys.cleanupLock('dead'))).toBe(1);
    expect(await raw.pttl(keys.cleanupLock('dead'))).toBeLessThanOrEqual(lockMs);
    const second = survivor(keys, 'second', lockMs);
    expect(await cleanUpDeadNode(second, 'dead')).toBe('busy');
    // What a survivor's liveness check does: try again on every check until the lock is free.
    await waitUntil('the second cleaner to take over', async () => (await cleanUpDeadNode(second, 'dead')) === 'done', 5000, 50);
    // The group the first cleaner emptied is reported again, by the one that finished.
    expect(second.orphans).toEqual(['solo']);
    expect(await raw.hkeys(keys.group('shared').members)).toEqual(['other']);
    expect(await raw.hget(keys.session('ds'), 'died')).not.toBe('');
    expect(await raw.sismember(keys.nodes, 'dead')).toBe(0);
  });
});

describe('NodeLiveness after its own key expired', () => {
  it('waits for the cleanup of this node to end before reporting onExpired', async () => {
    const keys = newKeys();
    const logger = new RecordingLogger();
    const order: string[] = [];
    const liveness = new NodeLiveness({
      policy: new LivenessPolicy({ nodeId: 'me', nodeTtlMs: 600, heartbeatMs: 50, checkMs: 30, deadRetentionMs: 60_000, now: Date.now }),
      keys,
      redis: raw,
      logger,
      onNodeDown: () => undefined,
      cleanUp: async () => undefined,
      onExpired: () => order.push('onExpired'),
    });
    await liveness.start();
    stopping.push(() => liveness.stop(true));
    // A survivor found this node dead and is cleaning up after it when the node runs again.
    await raw.set(keys.cleanupLock('me'), 'survivor:token', 'PX', 60_000);
    await raw.del(keys.node('me'));
    await waitUntil('the expiry to be noticed', () => logger.lines.some((l) => l.msg.includes('liveness key had expired')));
    order.push('cleanup ended');
    await raw.del(keys.cleanupLock('me'));
    await waitUntil('onExpired', () => order.includes('onExpired'));
    expect(order).toEqual(['cleanup ended', 'onExpired']);
    expect(await raw.exists(keys.node('me'))).toBe(1);
  });
});
