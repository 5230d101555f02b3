import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { RecordingHandler, RoomsError, WatchTable } from '@rooms-kit/core';
import type { GroupSpec, ReplicaEvent } from '@rooms-kit/core';
import { RedisBackend, RedisKeys } from '../src/index.js';
import { freePort, RedisServer } from '@rooms-kit/testing';
import { nodeId, RecordingLogger, TestNodes } from './support/nodes.js';
import { waitUntil } from '@rooms-kit/testing';

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
  prefix = `misc${++test}:`;
  return new RedisKeys(prefix);
}

function spec(id: string): GroupSpec {
  return { id, allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
}

async function clientNames(): Promise<string> {
  return (await raw.call('CLIENT', 'LIST')) as string;
}

describe('RedisBackend events', () => {
  it('logs and drops malformed events, and keeps delivering the good ones', async () => {
    const keys = newKeys();
    const logger = new RecordingLogger();
    const { node: a, handler: ha } = await nodes.add('a', { logger });
    await a.groups.createGroup(spec('g'), { id: 's1', node: a.nodeId });
    const channel = keys.group('g').channel;
    for (const bad of ['not json', '{"type":"joined"}', '{"type":"message","group":"g","v":2,"from":null,"data":1,"offset":"x","self":true}', '[]']) {
      await raw.publish(channel, bad);
    }
    const sent = await a.groups.publish('g', 's1', 'good', false);
    await ha.untilMessage('g', sent.offset);
    expect(ha.events('g')).toEqual([{ type: 'message', group: 'g', v: 2, from: 's1', data: 'good', offset: 1, self: false }]);
    expect(logger.lines.filter((l) => l.msg === 'malformed replica event dropped')).toHaveLength(4);
  });

  it('builds ids, channel and member JSON in the scripts exactly, whatever characters the ids hold', async () => {
    newKeys();
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    const group = 'a/b:c@d#e=f+g.h_i-j';
    const odd = { id: 'q"uote\\back\nslash/é', node: a.nodeId, user: 'u"1', data: { nick: 'x', list: [1, '"'] } };
    await a.groups.createGroup(spec(group), { id: 'plain', node: a.nodeId });
    await b.groups.watch(group);
    await a.groups.join(group, odd);
    await a.groups.publish(group, odd.id, { t: '/"\\' }, true);
    await a.groups.leave(group, odd.id, 'kicked', { why: 'x' });
    for (const h of [ha, hb]) await h.untilVersion(group, 4);
    const expected: ReplicaEvent[] = [
      { type: 'joined', group, v: 2, member: odd, size: 2 },
      { type: 'message', group, v: 3, from: odd.id, data: { t: '/"\\' }, offset: 1, self: true },
      { type: 'left', group, v: 4, member: odd, reason: 'kicked', data: { why: 'x' }, size: 1 },
    ];
    expect(ha.events(group)).toEqual(expected);
    expect(hb.events(group)).toEqual(expected);
    expect((await b.groups.snapshot(group))?.members).toEqual([{ id: 'plain', node: a.nodeId }]);
    // The history says the sender asked for its copy (a resync that delivers it again delivers it to the sender too).
    expect((await a.groups.history(group, 0)).messages).toEqual([{ group, from: odd.id, data: { t: '/"\\' }, offset: 1, self: true }]);
  });

  it('recovers a lost message from the store: the missed message and member, then the rest, in order', async () => {
    const keys = newKeys();
    const { node: a } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    const snap = await a.groups.createGroup(spec('g'), { id: 's1', node: a.nodeId });
    await b.groups.watch('g');
    // Two changes whose publications are lost: a member joins (v2) and a message is appended (v3, offset 1).
    const k = keys.group('g');
    await raw.hset(k.members, 'lost', `x\n${JSON.stringify({ id: 'lost' })}`);
    await raw.hincrby(k.nodes, 'x', 1);
    await raw.hincrby(k.state, 'v', 1);
    await raw.hincrby(k.state, 'offset', 1);
    await raw.hincrby(k.state, 'v', 1);
    await raw.xadd(k.history, '1-0', 'f', '"s1"', 'd', '{"missed":true}', 's', 'true');
    const sent = await a.groups.publish('g', 's1', 'after the gap', false);
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

describe('RedisBackend gap recovery', () => {
  it('drops an event the store does not reflect after one recovery, without re-queueing it, and keeps working', async () => {
    const keys = newKeys();
    const logger = new RecordingLogger();
    const { node: a, handler: ha } = await nodes.add('a', { logger });
    await a.groups.createGroup(spec('idle'), { id: 's1', node: a.nodeId });
    // Load the scripts involved, so that every later call is one EVALSHA.
    await a.groups.snapshot('idle');
    const first = await a.groups.publish('idle', 's1', 'first', false);
    await ha.untilMessage('idle', first.offset);
    const scriptCalls = async (): Promise<number> => {
      const stats = String(await raw.info('commandstats'));
      return ['evalsha', 'eval'].reduce((sum, name) => sum + Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0);
    };
    const before = await scriptCalls();
    // An event of a version the store never reached: forged, or written on a master whose write a failover lost.
    const forged = { type: 'message', group: 'idle', v: 50, from: null, data: 'lost write', offset: 40, self: true };
    await raw.publish(keys.group('idle').channel, JSON.stringify(forged));
    const isDrop = (l: { msg: string }): boolean => l.msg.startsWith('dropped a replica event the store does not reflect');
    await waitUntil('the forged event to be dropped', () => logger.lines.some(isDrop));
    const sent = await a.groups.publish('idle', 's1', 'real', false);
    const real = await ha.untilMessage('idle', sent.offset);
    expect(real.v).toBe(3);
    expect(ha.events('idle').map((e) => e.v)).toEqual([2, 3]);
    // One read to recover (no message missed, so no history read) and the publish: no loop.
    expect((await scriptCalls()) - before).toBe(2);
    expect(logger.lines.filter(isDrop)).toHaveLength(1);
    expect(logger.lines.filter(isDrop)[0]?.obj).toMatchObject({ group: 'idle', v: 50, have: 2 });
  });
});

describe('RedisBackend gap recovery, with a bug in it', () => {
  it('logs the error instead of leaving an unhandled rejection, and the group goes on', async () => {
    const keys = newKeys();
    const logger = new RecordingLogger();
    const { node: a, handler: ha } = await nodes.add('a', { logger });
    await a.groups.createGroup(spec('g'), { id: 's1', node: a.nodeId });
    // Injected fault: the first delivery of recovered events throws.
    const spy = vi.spyOn(WatchTable.prototype, 'deliverRecovered').mockImplementationOnce(() => {
      throw new Error('a bug in the recovery');
    });
    try {
      // A change whose publication was lost (v2), then one that arrives (v3): a gap, so a recovery.
      await raw.hincrby(keys.group('g').state, 'v', 1);
      await a.groups.publish('g', 's1', 'after the gap', false);
      await waitUntil('the bug to be logged', () => logger.lines.some((l) => l.level === 'error' && l.msg === 'gap recovery threw'));
    } finally {
      spy.mockRestore();
    }
    // The watch was released (stale: what arrived is delivered), and later events flow.
    await ha.untilMessage('g', 1);
    const next = await a.groups.publish('g', 's1', 'next', false);
    expect((await ha.untilMessage('g', next.offset)).v).toBe(4);
  });
});

describe('RedisBackend while only the subscriber connection is down', () => {
  it('rejects calls with UNAVAILABLE (their events could not arrive), then works again once it resubscribed', async () => {
    newKeys();
    const { node: a, handler: ha } = await nodes.add('a');
    await a.groups.createGroup(spec('g'), { id: 's1', node: a.nodeId });
    // A call made the moment the loss is reported, while the command connection is still up.
    const attempted = new Promise<unknown>((resolve) => {
      ha.onAvailabilityHook = (available) => {
        if (!available) resolve(a.groups.publish('g', 's1', 'while down', false).catch((e: unknown) => e));
      };
    });
    const subscriber = (await clientNames()).split('\n').find((line) => line.includes(` name=rooms:${a.nodeId}:sub `));
    const id = /^id=(\d+) /.exec(subscriber ?? '')?.[1];
    expect(id).toBeDefined();
    await raw.call('CLIENT', 'KILL', 'ID', id as string);
    const error = await attempted;
    expect(error).toBeInstanceOf(RoomsError);
    expect((error as RoomsError).code).toBe('UNAVAILABLE');
    await ha.until((h) => h.records.some((r) => r.kind === 'reconnected'), 'onReconnected');
    expect((await a.groups.snapshot('g'))?.offset).toBe(0);
    const sent = await a.groups.publish('g', 's1', 'after', false);
    expect((await ha.untilMessage('g', sent.offset)).data).toBe('after');
  });
});

describe('RedisBackend sessions', () => {
  it('a save from the node a session was taken from does not undo the take or its token rotation', async () => {
    const keys = newKeys();
    const { node: a } = await nodes.add('a');
    const { node: c } = await nodes.add('c');
    const key = keys.session('s');
    const record = { id: 's', node: a.nodeId, tokenHash: 'old', groups: { g: 3 }, expiresAt: null, windowMs: 30_000 };
    await a.sessions.save(record);
    expect(await c.sessions.take('s', 'old', { newTokenHash: 'new' })).toMatchObject({ record: { node: c.nodeId, tokenHash: 'new' }, previousNode: a.nodeId });
    // a's saves issued before it heard of the take land after it: refused, live or suspended past its expiry.
    await a.sessions.save({ ...record, groups: { g: 3, g2: 0 } });
    await a.sessions.save({ ...record, expiresAt: Date.now() - 1 });
    expect(await raw.hmget(key, 'node', 'tok')).toEqual([c.nodeId, 'new']);
    expect(await c.sessions.take('s', 'old', { newTokenHash: 'x' })).toBeNull();
    expect(await c.sessions.take('s', 'new', { newTokenHash: 'n2' })).toMatchObject({ record: { node: c.nodeId, tokenHash: 'n2', groups: { g: 3 } }, previousNode: c.nodeId });
    // The holder's own save writes, and clears a death mark a survivor left (the holder is back).
    await raw.hset(key, 'died', '1234');
    await raw.pexpire(key, 60_000);
    await c.sessions.save({ ...record, node: c.nodeId, tokenHash: 'n2', groups: { g: 4 } });
    expect(await raw.hmget(key, 'node', 'tok', 'died')).toEqual([c.nodeId, 'n2', '']);
    expect(await raw.pttl(key)).toBe(-1);
    expect(await raw.sismember(keys.nodeSessions(c.nodeId), 's')).toBe(1);
  });
});

describe('RedisBackend liveness', () => {
  it('lists the live nodes and removes the members of a node that closed (node-down), once, by one survivor', async () => {
    newKeys();
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    const { node: c } = await nodes.add('c');
    await waitUntil('every node sees three', () => a.bus.liveNodes().length === 3 && b.bus.liveNodes().length === 3);
    expect(a.bus.liveNodes()[0]).toBe(a.nodeId);
    expect([...a.bus.liveNodes()].sort()).toEqual([a.nodeId, b.nodeId, c.nodeId].sort());
    await a.groups.createGroup(spec('g'), { id: 'sa', node: a.nodeId });
    await b.groups.watch('g');
    await c.groups.watch('g');
    await c.groups.join('g', { id: 'sc', node: c.nodeId });
    await c.close();
    for (const h of [ha, hb]) {
      const left = await h.waitForEvent((e) => e.type === 'left' && e.member.id === 'sc', 'sc left');
      expect(left).toEqual({ type: 'left', group: 'g', v: 3, member: { id: 'sc', node: c.nodeId }, reason: 'node-down', size: 1 });
      await h.until((x) => x.records.some((r) => r.kind === 'nodeDown' && r.node === c.nodeId), 'onNodeDown');
    }
    await waitUntil('a forgets c', () => !a.bus.liveNodes().includes(c.nodeId));
    // One event per member across survivors: the cleanup ran once.
    const sentinel = await a.groups.publish('g', 'sa', 'sentinel', false);
    await hb.untilMessage('g', sentinel.offset);
    expect(hb.events('g').filter((e) => e.type === 'left')).toHaveLength(1);
    expect(hb.records.filter((r) => r.kind === 'nodeDown')).toHaveLength(1);
  });
});

describe('RedisBackend orphans', () => {
  it('reports the groups a dead node left empty to the one survivor that cleaned up after it', async () => {
    const keys = newKeys();
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    const { node: c } = await nodes.add('c');
    await waitUntil('a and b see c', () => a.bus.liveNodes().includes(c.nodeId) && b.bus.liveNodes().includes(c.nodeId));
    await c.groups.createGroup(spec('solo'), { id: 'c1', node: c.nodeId });
    await c.groups.join('solo', { id: 'c2', node: c.nodeId });
    await a.groups.createGroup(spec('shared'), { id: 'sa', node: a.nodeId });
    await c.groups.join('shared', { id: 'c3', node: c.nodeId });
    await c.groups.createGroup(spec('never-joined'), null);
    // Closing removes c's liveness key: for the survivors it is a crash like any other.
    await c.close();
    await waitUntil('the cleanup after c to end', async () => (await raw.sismember(keys.nodes, c.nodeId)) === 0);
    expect([...ha.orphans(), ...hb.orphans()]).toEqual(['solo']);
    expect([ha, hb].filter((h) => h.records.some((r) => r.kind === 'orphans'))).toHaveLength(1);
    expect((await a.groups.snapshot('solo'))?.members).toEqual([]);
    expect((await a.groups.snapshot('shared'))?.members).toEqual([{ id: 'sa', node: a.nodeId }]);
  });
});

describe('RedisBackend lifecycle', () => {
  it('close() removes the liveness key, quits every connection, is idempotent, and later calls reject', async () => {
    const keys = newKeys();
    const node = new RedisBackend({ url: server.url, nodeId: nodeId('closing'), keyPrefix: prefix });
    await node.start(new RecordingHandler('closing'));
    await node.groups.createGroup(spec('g'), null);
    expect(await raw.exists(keys.node(node.nodeId))).toBe(1);
    expect(await clientNames()).toContain(`rooms:${node.nodeId}:sub`);
    await Promise.all([node.close(), node.close()]);
    await node.close();
    expect(await raw.exists(keys.node(node.nodeId))).toBe(0);
    await waitUntil('its connections to close', async () => !(await clientNames()).includes(`rooms:${node.nodeId}`));
    const error = await node.groups.publish('g', null, 1, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomsError);
    expect((error as RoomsError).code).toBe('UNAVAILABLE');
    await expect(node.start(new RecordingHandler('again'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('start() rejects UNAVAILABLE when Redis cannot be reached, and can be retried once it is there', async () => {
    const later = new RedisServer();
    later.port = await freePort();
    const node = new RedisBackend({ url: later.url, nodeId: nodeId('early'), commandTimeoutMs: 200 });
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
    expect(() => new RedisBackend({ url: server.url, nodeId: 'a\nb' })).toThrow(TypeError);
    expect(() => new RedisBackend({ url: server.url, nodeId: '' })).toThrow(TypeError);
  });
});
