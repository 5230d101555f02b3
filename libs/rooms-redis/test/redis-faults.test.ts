import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RoomsError } from '@rooms-kit/core';
import type { GroupSnapshot, GroupSpec, MemberInfo } from '@rooms-kit/core';
import { RedisKeys } from '../src/index.js';
import { RedisServer } from '@rooms-kit/testing';
import { TestNodes } from './support/nodes.js';

const server = new RedisServer();
let prefix = '';
let test = 0;
const nodes = new TestNodes(() => ({ url: server.url, keyPrefix: prefix, commandTimeoutMs: 5000 }));

beforeAll(() => server.start(), 90_000);
afterAll(() => server.stop());
afterEach(async () => {
  await server.start().catch(() => undefined);
  await nodes.closeAll();
});

function newPrefix(): string {
  prefix = `faults${++test}:`;
  return prefix;
}

function spec(id: string, options: Partial<GroupSpec> = {}): GroupSpec {
  return { id, allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false, ...options };
}

async function rejection(promise: Promise<unknown>): Promise<RoomsError> {
  const error = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RoomsError);
  return error as RoomsError;
}

/**
 * True when a store error came from a command timeout: ioredis's own (`cause` "Command timed out") or the deadline
 * of an operation of several round trips ("did not answer within").
 */
function commandTimedOut(error: RoomsError): boolean {
  const cause = error.cause instanceof Error ? error.cause.message : '';
  return cause === 'Command timed out' || /did not answer within/.test(error.message);
}

/**
 * The first test's command timeout, far above its test timeout: a call that waited for the timer (instead of failing
 * on the closed connection) would make the test time out, so passing shows the calls fail fast without timing them.
 */
const NEVER_MS = 10 * 60_000;
const DOWN_TEST_TIMEOUT_MS = 15_000;

describe('RedisBackend while Redis is down', () => {
  it(
    'rejects every call with UNAVAILABLE on the closed connection, not on the command timeout, and reports availability',
    async () => {
      newPrefix();
      const { node: a, handler: ha } = await nodes.add('a', { commandTimeoutMs: NEVER_MS });
      await a.groups.createGroup(spec('g'), { id: 's1', node: a.nodeId });
      await server.kill();
      // A call right after the kill, before the client may have noticed.
      expect((await rejection(a.groups.join('g', { id: 's2', node: a.nodeId }))).code).toBe('UNAVAILABLE');
      await ha.until((h) => h.records.some((r) => r.kind === 'availability' && !r.available), 'availability false');
      const calls: Array<Promise<unknown>> = [
        a.groups.createGroup(spec('g2'), null),
        a.groups.watch('g'),
        a.groups.snapshot('g'),
        a.groups.listGroups(),
        a.groups.join('g', { id: 's3', node: a.nodeId }),
        a.groups.leave('g', 's1', 'leave'),
        a.groups.rejoin('g', { id: 's1', node: a.nodeId }),
        a.groups.publish('g', 's1', 'x', false),
        a.groups.discard('g', { ifEmpty: false, reason: 'admin' }),
        a.groups.history('g', 0),
        a.sessions.save({ id: 'x', node: a.nodeId, tokenHash: 'h', groups: {}, expiresAt: null, windowMs: 1000 }),
        a.sessions.take('x', 'h'),
        a.sessions.drop('x'),
        a.sessions.read('x'),
        a.bus.send(a.nodeId, 'hello'),
        a.groups.reassert([{ spec: spec('g'), members: [], offset: 0, v: 0, everActive: false }]),
      ];
      for (const error of await Promise.all(calls.map(rejection))) {
        expect(error.code).toBe('UNAVAILABLE');
        expect(error.temporary).toBe(true);
        expect(commandTimedOut(error)).toBe(false);
      }
      expect(a.bus.liveNodes()).toContain(a.nodeId);
    },
    DOWN_TEST_TIMEOUT_MS,
  );

  it('rejects UNAVAILABLE because of the command timeout when Redis stops answering', async () => {
    newPrefix();
    const { node: a, handler: ha } = await nodes.add('a', { commandTimeoutMs: 300 });
    await a.groups.createGroup(spec('g'), { id: 's1', node: a.nodeId });
    server.pause();
    try {
      // One command (ioredis's command timeout) and one operation of several round trips (its own deadline); the
      // connection stays open while the server is stopped, so only a timeout can reject them.
      for (const error of [await rejection(a.groups.publish('g', 's1', 'x', false)), await rejection(a.sessions.take('x', 'h'))]) {
        expect(error.code).toBe('UNAVAILABLE');
        expect(commandTimedOut(error)).toBe(true);
      }
      expect(ha.records.some((r) => r.kind === 'availability' && !r.available)).toBe(false);
    } finally {
      server.resume();
    }
  });
});

describe('RedisBackend after Redis comes back', () => {
  it('reports availability, then onReconnected once every channel is subscribed again', async () => {
    const keys = new RedisKeys(newPrefix());
    const { node: a, handler: ha } = await nodes.add('a');
    const snap = await a.groups.createGroup(spec('watched'), { id: 's1', node: a.nodeId });
    await server.kill();
    const raw = new Redis(server.url, { lazyConnect: true });
    // The moment a reports onReconnected, publish on the group's channel: a must already be subscribed to get it.
    const injected = new Promise<void>((resolve, reject) => {
      ha.onReconnectedHook = () => {
        const event = { type: 'joined', group: 'watched', v: snap.v + 1, member: { id: 'probe', node: 'x' }, size: 2 };
        raw.connect().then(() => raw.publish(keys.group('watched').channel, JSON.stringify(event))).then(() => resolve(), reject);
      };
    });
    await server.start();
    await ha.until((h) => h.records.some((r) => r.kind === 'reconnected'), 'onReconnected');
    await injected;
    raw.disconnect();
    const kinds = ha.records.filter((r) => r.kind !== 'event').map((r) => (r.kind === 'availability' ? `available:${r.available}` : r.kind));
    expect(kinds).toEqual(['available:false', 'available:true', 'reconnected']);
    const probe = await ha.waitForEvent((e) => e.type === 'joined' && e.member.id === 'probe', 'the probe event');
    expect(probe.v).toBe(snap.v + 1);
  });

  it('after a restart without data, reassert restores groups and members and offsets do not go back', async () => {
    newPrefix();
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    const sa: MemberInfo = { id: 'sa', node: a.nodeId, data: { a: 1 } };
    const sb: MemberInfo = { id: 'sb', node: b.nodeId };
    await a.groups.createGroup(spec('room', { maxMembers: 10 }), sa);
    await b.groups.watch('room');
    await b.groups.join('room', sb);
    for (let i = 1; i <= 5; i++) await a.groups.publish('room', 'sa', i, false);
    const before = (await a.groups.snapshot('room')) as GroupSnapshot;
    expect(before.offset).toBe(5);
    await hb.untilVersion('room', before.v);
    await ha.untilVersion('room', before.v);

    await server.restart();
    await ha.until((h) => h.records.some((r) => r.kind === 'reconnected'), 'a reconnected', 8000);
    await hb.until((h) => h.records.some((r) => r.kind === 'reconnected'), 'b reconnected', 8000);
    expect(await a.groups.snapshot('room')).toBeNull();

    // Each node re-asserts what it knows; b re-asserts first, with an older offset that must not pull it back.
    await b.groups.reassert([{ ...before, offset: 3 }]);
    await a.groups.reassert([before]);
    const after = (await b.groups.snapshot('room')) as GroupSnapshot;
    expect(after.spec).toEqual(before.spec);
    expect([...after.members].sort((x, y) => x.id.localeCompare(y.id))).toEqual([sa, sb]);
    expect(after.offset).toBe(5);
    expect(after.v).toBeGreaterThan(before.v);
    expect(await a.groups.listGroups()).toEqual(['room']);

    const sent = await b.groups.publish('room', 'sb', 'after', false);
    expect(sent.offset).toBe(6);
    for (const h of [ha, hb]) {
      const message = await h.untilMessage('room', 6);
      expect(message.data).toBe('after');
    }
    // Both nodes saw both members come back.
    for (const h of [ha, hb]) {
      await h.until((x) => x.events('room').filter((e) => e.type === 'rejoined' && e.v > before.v).length === 2, 'two re-joins');
    }
  });
});
