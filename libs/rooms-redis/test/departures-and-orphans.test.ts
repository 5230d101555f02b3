import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { GroupSpec } from '@rooms-kit/core';
import { RedisKeys } from '../src/index.js';
import { RedisServer, waitUntil } from '@rooms-kit/testing';
import { RecordingLogger, TestNodes } from './support/nodes.js';

// Issue 13 (items 9 and 10), on the backend: a node that closes cleanly is logged as left, one that vanishes as dead;
// the orphans a cleaner adopted are taken over by whoever cleans up after that cleaner.

const server = new RedisServer();
let prefix = '';
let test = 0;
const nodes = new TestNodes(() => ({ url: server.url, keyPrefix: prefix, nodeTtlMs: 600 }));
let raw: Redis;

beforeAll(async () => {
  await server.start();
  raw = new Redis(server.url);
}, 90_000);
afterAll(async () => {
  raw.disconnect();
  await server.stop();
});
afterEach(() => nodes.closeAll());

function newKeys(): RedisKeys {
  prefix = `depart${++test}:`;
  return new RedisKeys(prefix);
}

function spec(id: string): GroupSpec {
  return { id, allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
}

describe('departures', () => {
  it('a closed node is logged "node left" (info) by a survivor; one whose key vanished is "node found dead" (warn)', async () => {
    const keys = newKeys();
    const logger = new RecordingLogger();
    const { node: a } = await nodes.add('a', { logger });
    const { node: b } = await nodes.add('b');
    await waitUntil('a sees b', () => a.bus.liveNodes().length === 2);
    await b.close();
    // A node known without a liveness key and without a departure notice: one that crashed.
    await raw.sadd(keys.nodes, 'crashed');
    const about = (node: string) => logger.lines.filter((line) => (line.obj as { node?: string }).node === node && line.msg.startsWith('node '));
    await waitUntil('a to judge b and the crashed node', () => about(b.nodeId).length > 0 && about('crashed').length > 0);
    expect(about(b.nodeId).map((line) => [line.level, line.msg])).toEqual([['info', 'node left']]);
    expect(about('crashed').map((line) => [line.level, line.msg])).toEqual([['warn', 'node found dead']]);
  });
});

describe('orphans of a cleaner that died', () => {
  it('are taken over by the node that cleans up after the cleaner', async () => {
    const keys = newKeys();
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    const { node: holder } = await nodes.add('holder');
    await waitUntil('a and b see the holder', () => a.bus.liveNodes().includes(holder.nodeId) && b.bus.liveNodes().includes(holder.nodeId));
    await holder.groups.createGroup(spec('orphan'), { id: 'm1', node: holder.nodeId });
    await holder.close();
    const cleaner = await waitUntil('one survivor to adopt the orphan', () => [ha, hb].find((h) => h.orphans().includes('orphan')));
    expect(await raw.hget(`${prefix}orphans`, 'orphan')).toBe(cleaner === ha ? a.nodeId : b.nodeId);
    const [dying, survivor, survivorHandler] = cleaner === ha ? [a, b, hb] : [b, a, ha];
    // The adopter dies before the grace ended (its kernel would have discarded the group).
    await dying.close();
    await waitUntil('the survivor to take the orphan over', () => survivorHandler.orphans().includes('orphan'));
    expect(await raw.hget(`${prefix}orphans`, 'orphan')).toBe(survivor.nodeId);
    expect(await raw.exists(keys.group('orphan').state)).toBe(1);
  });

  it('entries of groups that are gone or have members again are dropped at the next takeover', async () => {
    const keys = newKeys();
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: holder } = await nodes.add('holder');
    const { node: other } = await nodes.add('other');
    await waitUntil('a sees everyone', () => a.bus.liveNodes().length === 3);
    await raw.hset(`${prefix}orphans`, 'gone', 'someone', 'rejoined', 'someone');
    await a.groups.createGroup(spec('rejoined'), { id: 'm', node: a.nodeId });
    await holder.close();
    await other.close();
    await waitUntil('the cleanups to end', async () => (await raw.scard(keys.nodes)) === 1);
    expect(await raw.hgetall(`${prefix}orphans`)).toEqual({});
    expect(ha.orphans()).toEqual([]);
  });
});
