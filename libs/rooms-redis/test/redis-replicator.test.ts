import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RoomsError } from '@rooms/core';
import type { GroupSpec, ReplicaEvent } from '@rooms/core';
import { RedisKeys, RedisReplicator } from '../src/index.js';
import { RecordingHandler } from './support/recording-handler.js';
import { freePort, RedisServer } from '@rooms/testing';
import { nodeId, RecordingLogger, TestNodes } from './support/nodes.js';
import { waitUntil } from '@rooms/testing';

const server = new RedisServer();
let prefix = '';
let test = 0;
const nodes = new TestNodes(() => ({ url: server.url, keyPrefix: prefix, nodeTtlMs: 600 }));
let raw: Redis;

beforeAll(async () => {
  await server.start();
  raw = new Redis(server.url);
}, 15_000);
afterAll(async () => {
  raw.disconnect();
  await server.stop();
});
afterEach(() => nodes.closeAll());

function newKeys(): RedisKeys {
  prefix = `misc${++test}:`;
  return new RedisKeys(prefix);
}

function spec(id: string): GroupSpec {
  return { id, allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
}

async function clientNames(): Promise<string> {
  return (await raw.call('CLIENT', 'LIST')) as string;
}

describe('RedisReplicator events', () => {
  it('logs and drops malformed events, and keeps delivering the good ones', async () => {
    const keys = newKeys();
    const logger = new RecordingLogger();
    const { node: a, handler: ha } = await nodes.add('a', { logger });
    await a.createGroup(spec('g'), { id: 's1', node: a.nodeId });
    const channel = keys.group('g').channel;
    for (const bad of ['not json', '{"type":"joined"}', '{"type":"message","group":"g","v":2,"from":null,"data":1,"offset":"x","self":true}', '[]']) {
      await raw.publish(channel, bad);
    }
    const sent = await a.publish('g', 's1', 'good', false);
    await ha.untilMessage('g', sent.offset);
    expect(ha.events('g')).toEqual([{ type: 'message', group: 'g', v: 2, from: 's1', data: 'good', offset: 1, self: false }]);
    expect(logger.lines.filter((l) => l.msg === 'malformed replica event dropped')).toHaveLength(4);
  });

  it('recovers a lost message from the store: the missed message and member, then the rest, in order', async () => {
    const keys = newKeys();
    const { node: a } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    const snap = await a.createGroup(spec('g'), { id: 's1', node: a.nodeId });
    await b.watch('g');
    // Two changes whose publications are lost: a member joins (v2) and a message is appended (v3, offset 1).
    const k = keys.group('g');
    await raw.hset(k.members, 'lost', `x\n${JSON.stringify({ id: 'lost' })}`);
    await raw.hincrby(k.nodes, 'x', 1);
    await raw.hincrby(k.state, 'v', 1);
    await raw.hincrby(k.state, 'offset', 1);
    await raw.hincrby(k.state, 'v', 1);
    await raw.xadd(k.history, '1-0', 'f', '"s1"', 'd', '{"missed":true}', 's', 'true');
    const sent = await a.publish('g', 's1', 'after the gap', false);
    expect(sent).toMatchObject({ offset: 2 });
    expect((await hb.untilMessage('g', 2)).v).toBe(snap.v + 3);
    const events = hb.events('g');
    expect(events.map((e) => e.v)).toEqual([2, 3, 4]);
    expect(events).toEqual<ReplicaEvent[]>([
      { type: 'message', group: 'g', v: 2, from: 's1', data: { missed: true }, offset: 1, self: true },
      { type: 'joined', group: 'g', v: 3, member: { id: 'lost', node: 'x' }, size: 2 },
      { type: 'message', group: 'g', v: 4, from: 's1', data: 'after the gap', offset: 2, self: false },
    ]);
  });
});

describe('RedisReplicator liveness', () => {
  it('lists the live nodes and removes the members of a node that closed (node-down), once, by one survivor', async () => {
    newKeys();
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    const { node: c } = await nodes.add('c');
    await waitUntil('every node sees three', () => a.liveNodes().length === 3 && b.liveNodes().length === 3);
    expect(a.liveNodes()[0]).toBe(a.nodeId);
    expect([...a.liveNodes()].sort()).toEqual([a.nodeId, b.nodeId, c.nodeId].sort());
    await a.createGroup(spec('g'), { id: 'sa', node: a.nodeId });
    await b.watch('g');
    await c.watch('g');
    await c.join('g', { id: 'sc', node: c.nodeId });
    await c.close();
    for (const h of [ha, hb]) {
      const left = await h.waitForEvent((e) => e.type === 'left' && e.member.id === 'sc', 'sc left');
      expect(left).toEqual({ type: 'left', group: 'g', v: 3, member: { id: 'sc', node: c.nodeId }, reason: 'node-down', size: 1 });
      await h.until((x) => x.records.some((r) => r.kind === 'nodeDown' && r.node === c.nodeId), 'onNodeDown');
    }
    await waitUntil('a forgets c', () => !a.liveNodes().includes(c.nodeId));
    // One event per member across survivors: the cleanup ran once.
    const sentinel = await a.publish('g', 'sa', 'sentinel', false);
    await hb.untilMessage('g', sentinel.offset);
    expect(hb.events('g').filter((e) => e.type === 'left')).toHaveLength(1);
    expect(hb.records.filter((r) => r.kind === 'nodeDown')).toHaveLength(1);
  });
});

describe('RedisReplicator lifecycle', () => {
  it('close() removes the liveness key, quits every connection, is idempotent, and later calls reject', async () => {
    const keys = newKeys();
    const node = new RedisReplicator({ url: server.url, nodeId: nodeId('closing'), keyPrefix: prefix });
    await node.start(new RecordingHandler('closing'));
    await node.createGroup(spec('g'), null);
    expect(await raw.exists(keys.node(node.nodeId))).toBe(1);
    expect(await clientNames()).toContain(`rooms:${node.nodeId}:sub`);
    await Promise.all([node.close(), node.close()]);
    await node.close();
    expect(await raw.exists(keys.node(node.nodeId))).toBe(0);
    await waitUntil('its connections to close', async () => !(await clientNames()).includes(`rooms:${node.nodeId}`));
    const error = await node.publish('g', null, 1, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomsError);
    expect((error as RoomsError).code).toBe('UNAVAILABLE');
    await expect(node.start(new RecordingHandler('again'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('start() rejects UNAVAILABLE when Redis cannot be reached, and can be retried once it is there', async () => {
    const later = new RedisServer();
    later.port = await freePort();
    const node = new RedisReplicator({ url: later.url, nodeId: nodeId('early'), commandTimeoutMs: 200 });
    try {
      await expect(node.start(new RecordingHandler('early'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await later.start();
      await node.start(new RecordingHandler('early'));
      const names = new Redis(later.url);
      const clients = ((await names.call('CLIENT', 'LIST')) as string).split('\n').filter((line) => line.includes(`name=rooms:${node.nodeId}`));
      names.disconnect();
      expect(clients).toHaveLength(2);
    } finally {
      await node.close();
      await later.stop();
    }
  });

  it('rejects a node id it cannot use', () => {
    expect(() => new RedisReplicator({ url: server.url, nodeId: 'a\nb' })).toThrow(TypeError);
    expect(() => new RedisReplicator({ url: server.url, nodeId: '' })).toThrow(TypeError);
  });
});
