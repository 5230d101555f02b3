import { afterEach, describe, expect, it } from 'vitest';
import { RoomsError } from '@rooms-kit/core';
import type { ErrorCode, GroupId, GroupSnapshot, GroupSpec, MemberInfo, ReplicaEvent, Replicator, SessionRecord } from '@rooms-kit/core';
import { RecordingHandler } from './support/recording-handler.js';

/** Options a contract test may ask of the store behind the nodes. */
export interface ContractStoreOptions {
  /** Messages kept per group. */
  historySize?: number;
}

/**
 * Makes `count` replicators (nodes with distinct ids) sharing one fresh store, not started. Called once per test;
 * the suite starts them and closes them after the test.
 */
export type MakeNodes = (count: number, options: ContractStoreOptions) => Replicator[] | Promise<Replicator[]>;

interface Cluster {
  nodes: Replicator[];
  handlers: RecordingHandler[];
}

let sequence = 0;
/** A group id unique within the test run. */
function gid(label = 'g'): GroupId {
  return `${label}-${process.pid}-${++sequence}`;
}

function spec(id: GroupId, options: Partial<GroupSpec> = {}): GroupSpec {
  return { id, allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false, ...options };
}

function member(id: string, node: string, data?: unknown): MemberInfo {
  const m: MemberInfo = { id, node };
  if (data !== undefined) m.data = data;
  return m;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected a rejection with ${code}`).toBeInstanceOf(RoomsError);
  expect((error as RoomsError).code).toBe(code);
}

function byId(members: MemberInfo[]): MemberInfo[] {
  return [...members].sort((x, y) => x.id.localeCompare(y.id));
}

/** Asserts that a node received the group's events with versions exactly `from..to`, in order, once each. */
function expectVersions(handler: RecordingHandler, group: GroupId, from: number, to: number): void {
  const expected = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  expect(handler.versions(group), `${handler.name}'s versions of ${group}`).toEqual(expected);
}

function ofType<T extends ReplicaEvent['type']>(events: ReplicaEvent[], type: T): Array<Extract<ReplicaEvent, { type: T }>> {
  return events.filter((e): e is Extract<ReplicaEvent, { type: T }> => e.type === type);
}

/**
 * The contract of the `Replicator` port (see its doc comment), run against one implementation. Every guarantee is
 * checked with several nodes sharing one store, through a recording `ReplicaHandler` on each node.
 */
export function replicatorContract(name: string, makeNodes: MakeNodes): void {
  describe(`Replicator contract: ${name}`, () => {
    const open: Replicator[] = [];

    afterEach(async () => {
      await Promise.all(open.splice(0).map((node) => node.close()));
    });

    async function setup(count = 3, options: ContractStoreOptions = {}): Promise<Cluster> {
      const nodes = await makeNodes(count, options);
      open.push(...nodes);
      const handlers = nodes.map((node) => new RecordingHandler(node.nodeId));
      await Promise.all(nodes.map((node, i) => node.start(handlers[i] as RecordingHandler)));
      return { nodes, handlers };
    }

    function three(cluster: Cluster): [Replicator, Replicator, Replicator, RecordingHandler, RecordingHandler, RecordingHandler] {
      const [a, b, c] = cluster.nodes as [Replicator, Replicator, Replicator];
      const [ha, hb, hc] = cluster.handlers as [RecordingHandler, RecordingHandler, RecordingHandler];
      return [a, b, c, ha, hb, hc];
    }

    describe('createGroup', () => {
      it('creates a group with its first member and watches it', async () => {
        const [a, b, , ha] = three(await setup());
        const g = gid();
        const snap = await a.createGroup(spec(g, { maxMembers: 5, meta: { k: 1 } }), member('s1', a.nodeId, { hi: 1 }));
        expect(snap.spec).toEqual(spec(g, { maxMembers: 5, meta: { k: 1 } }));
        expect(snap.members).toEqual([member('s1', a.nodeId, { hi: 1 })]);
        expect(snap).toMatchObject({ offset: 0, v: 1, everActive: true });
        await b.watch(g);
        const joined = await b.join(g, member('s2', b.nodeId));
        expect(joined.v).toBe(2);
        await ha.untilVersion(g, 2);
        expect(ha.events(g)).toEqual([{ type: 'joined', group: g, v: 2, member: member('s2', b.nodeId), size: 2 }]);
      });

      it('creates an empty group that never had a member', async () => {
        const [a, b] = three(await setup());
        const g = gid();
        const snap = await a.createGroup(spec(g, { allowEmpty: true }), null);
        expect(snap).toMatchObject({ members: [], offset: 0, v: 0, everActive: false });
        expect(await b.snapshot(g)).toEqual(snap);
      });

      it('rejects GROUP_EXISTS for an existing id', async () => {
        const [a, b] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        await expectCode(b.createGroup(spec(g), member('s2', b.nodeId)), 'GROUP_EXISTS');
        await expectCode(a.createGroup(spec(g, { allowEmpty: true }), null), 'GROUP_EXISTS');
        expect((await b.snapshot(g))?.members).toEqual([member('s1', a.nodeId)]);
      });

      it('gives exactly one success to concurrent creates of one id from two nodes', async () => {
        const [a, b] = three(await setup());
        for (let round = 0; round < 10; round++) {
          const g = gid('race');
          const results = await Promise.allSettled([a.createGroup(spec(g), member('sa', a.nodeId)), b.createGroup(spec(g), member('sb', b.nodeId))]);
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect((lost[0]?.reason as RoomsError).code).toBe('GROUP_EXISTS');
          expect((await a.snapshot(g))?.members).toHaveLength(1);
        }
      });
    });

    describe('join', () => {
      it('adds a member; every watching node, the joiner included, gets `joined` once', async () => {
        const [a, b, c, ha, hb, hc] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        await b.watch(g);
        await c.watch(g);
        const outcome = await c.join(g, member('s3', c.nodeId, { x: 'y' }));
        expect(outcome).toMatchObject({ already: false, v: 2, offset: 0 });
        expect(byId(((await a.snapshot(g)) as GroupSnapshot).members)).toEqual([member('s1', a.nodeId), member('s3', c.nodeId, { x: 'y' })]);
        const expected: ReplicaEvent = { type: 'joined', group: g, v: 2, member: member('s3', c.nodeId, { x: 'y' }), size: 2 };
        for (const h of [ha, hb, hc]) {
          await h.untilVersion(g, 2);
          expect(h.events(g)).toEqual([expected]);
        }
      });

      it('answers `already` for a member, with no event', async () => {
        const [a, b, , ha, hb] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        await b.watch(g);
        const again = await a.join(g, member('s1', a.nodeId));
        expect(again).toMatchObject({ already: true, v: 1, offset: 0 });
        const sent = await a.publish(g, 's1', 'after', false);
        for (const h of [ha, hb]) {
          await h.untilMessage(g, sent.offset);
          expect(h.events(g).map((e) => e.type)).toEqual(['message']);
        }
      });

      it('rejects GROUP_NOT_FOUND and GROUP_FULL', async () => {
        const [a, b] = three(await setup());
        await expectCode(b.join(gid('missing'), member('s1', b.nodeId)), 'GROUP_NOT_FOUND');
        const g = gid();
        await a.createGroup(spec(g, { maxMembers: 1 }), member('s1', a.nodeId));
        await expectCode(b.join(g, member('s2', b.nodeId)), 'GROUP_FULL');
        expect((await b.snapshot(g))?.members).toEqual([member('s1', a.nodeId)]);
      });

      it('holds maxMembers under 20 concurrent joins from 3 nodes', async () => {
        const cluster = await setup();
        const [a, , , ha] = three(cluster);
        const g = gid();
        await a.createGroup(spec(g, { allowEmpty: true, maxMembers: 5 }), null);
        await Promise.all(cluster.nodes.map((n) => n.watch(g)));
        const joins = Array.from({ length: 20 }, (_, i) => {
          const node = cluster.nodes[i % 3] as Replicator;
          return node.join(g, member(`s${i}`, node.nodeId));
        });
        const results = await Promise.allSettled(joins);
        const admitted = results.filter((r) => r.status === 'fulfilled');
        const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(admitted).toHaveLength(5);
        expect(refused.map((r) => (r.reason as RoomsError).code)).toEqual(Array(15).fill('GROUP_FULL'));
        expect((await a.snapshot(g))?.members).toHaveLength(5);
        for (const h of cluster.handlers) {
          await h.untilVersion(g, 5);
          expectVersions(h, g, 1, 5);
          expect(ofType(h.events(g), 'joined').map((e) => e.size)).toEqual([1, 2, 3, 4, 5]);
        }
        void ha;
      });
    });

    describe('leave', () => {
      it('removes a member; watchers get `left` with the reason and data', async () => {
        const [a, b, , ha, hb] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        await b.watch(g);
        await b.join(g, member('s2', b.nodeId));
        const v = await b.leave(g, 's2', 'leave', { bye: true });
        expect(v).toBe(3);
        const expected: ReplicaEvent = { type: 'left', group: g, v: 3, member: member('s2', b.nodeId), reason: 'leave', data: { bye: true }, size: 1 };
        for (const h of [ha, hb]) {
          await h.untilVersion(g, 3);
          expect(h.events(g)[1]).toEqual(expected);
        }
        const v2 = await a.leave(g, 's1', 'kicked');
        await ha.untilVersion(g, v2 as number);
        expect(ha.events(g)[2]).toEqual({ type: 'left', group: g, v: 4, member: member('s1', a.nodeId), reason: 'kicked', size: 0 });
        expect((await a.snapshot(g))?.members).toEqual([]);
      });

      it('resolves null for a non-member, with no event; rejects GROUP_NOT_FOUND for a missing group', async () => {
        const [a, , , ha] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        expect(await a.leave(g, 'nobody', 'leave')).toBeNull();
        const sent = await a.publish(g, null, 1, true);
        await ha.untilMessage(g, sent.offset);
        expect(ha.events(g).map((e) => e.type)).toEqual(['message']);
        await expectCode(a.leave(gid('missing'), 's1', 'leave'), 'GROUP_NOT_FOUND');
      });
    });

    describe('rejoin', () => {
      it('moves a present member to its new node, keeping its join data (`rejoined` with the previous node)', async () => {
        const [a, b, , ha, hb] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId, 'd'));
        await b.watch(g);
        const v = await b.rejoin(g, member('s1', b.nodeId));
        expect(v).toBe(2);
        for (const h of [ha, hb]) {
          await h.untilVersion(g, 2);
          expect(h.events(g)).toEqual([{ type: 'rejoined', group: g, v: 2, member: member('s1', b.nodeId, 'd'), previousNode: a.nodeId, size: 1 }]);
        }
        expect((await a.snapshot(g))?.members).toEqual([member('s1', b.nodeId, 'd')]);
      });

      it('adds an absent member when there is room; null when full or missing', async () => {
        const [a, b, , ha] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g, { maxMembers: 2 }), member('s1', a.nodeId));
        const v = await b.rejoin(g, member('s2', b.nodeId));
        expect(v).toBe(2);
        await ha.untilVersion(g, 2);
        expect(ha.events(g)).toEqual([{ type: 'rejoined', group: g, v: 2, member: member('s2', b.nodeId), previousNode: null, size: 2 }]);
        expect(await b.rejoin(g, member('s3', b.nodeId))).toBeNull();
        expect(await b.rejoin(gid('missing'), member('s3', b.nodeId))).toBeNull();
        expect((await a.snapshot(g))?.members).toHaveLength(2);
      });
    });

    describe('publish', () => {
      it('gives offsets 1..n; every watching node gets every message once, in order', async () => {
        const cluster = await setup();
        const [a] = three(cluster);
        const g = gid();
        await a.createGroup(spec(g, { allowEmpty: true }), null);
        await Promise.all(cluster.nodes.slice(1).map((n) => n.watch(g)));
        const n = 30;
        const sent = await Promise.all(
          Array.from({ length: n }, (_, i) => (cluster.nodes[i % 3] as Replicator).publish(g, `s${i % 3}`, { i }, i % 2 === 0)),
        );
        expect(sent.map((r) => r.offset).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(sent.every((r) => r.size === 0)).toBe(true);
        for (const h of cluster.handlers) {
          await h.untilVersion(g, n);
          expectVersions(h, g, 1, n);
          const messages = ofType(h.events(g), 'message');
          expect(messages.map((m) => m.offset)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          for (const m of messages) {
            const i = (m.data as { i: number }).i;
            expect(m).toMatchObject({ from: `s${i % 3}`, self: i % 2 === 0 });
            expect(sent[i]?.offset).toBe(m.offset);
          }
        }
      });

      it('rejects GROUP_NOT_FOUND for a missing group and reports the member count', async () => {
        const [a, b] = three(await setup());
        await expectCode(a.publish(gid('missing'), null, 1, false), 'GROUP_NOT_FOUND');
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        await b.watch(g);
        await b.join(g, member('s2', b.nodeId));
        expect(await b.publish(g, 's2', null, false)).toEqual({ offset: 1, size: 2 });
      });
    });

    describe('watch', () => {
      it('returns the snapshot, or null for a missing group', async () => {
        const [a, b] = three(await setup());
        expect(await b.watch(gid('missing'))).toBeNull();
        const g = gid();
        await a.createGroup(spec(g, { meta: { m: true } }), member('s1', a.nodeId));
        await a.publish(g, 's1', 'x', false);
        const snap = (await b.watch(g)) as GroupSnapshot;
        expect(snap).toEqual({ spec: spec(g, { meta: { m: true } }), members: [member('s1', a.nodeId)], offset: 1, v: 2, everActive: true });
      });

      it('delivers exactly the events after the snapshot, also while changes race with the watch', async () => {
        const [a, b, , , hb] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        const before = Array.from({ length: 10 }, (_, i) => a.publish(g, 's1', i, false));
        const watching = b.watch(g);
        const after = Array.from({ length: 10 }, (_, i) => a.publish(g, 's1', 10 + i, false));
        const [snap, sent] = await Promise.all([watching, Promise.all([...before, ...after])]);
        expect(Math.max(...sent.map((s) => s.offset))).toBe(20);
        const from = (snap as GroupSnapshot).v + 1;
        const sentinel = await a.publish(g, 's1', 'sentinel', false);
        const last = await hb.untilMessage(g, sentinel.offset);
        expect(last.v).toBe(22);
        expectVersions(hb, g, from, 22);
      });

      it('sends no event of a group to a node that does not watch it', async () => {
        const [a, , c, , , hc] = three(await setup());
        const g = gid();
        const other = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        await a.createGroup(spec(other), member('s1', a.nodeId));
        await c.watch(other);
        await a.publish(g, 's1', 'not for c', false);
        const sentinel = await a.publish(other, 's1', 'for c', false);
        await hc.untilMessage(other, sentinel.offset);
        expect(hc.events(g)).toEqual([]);
      });

      it('stops the events after unwatch', async () => {
        const [a, b, , , hb] = three(await setup());
        const g = gid();
        const other = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        await a.createGroup(spec(other), member('s1', a.nodeId));
        await b.watch(g);
        await b.watch(other);
        const first = await a.publish(g, 's1', 1, false);
        const received = await hb.untilMessage(g, first.offset);
        await b.unwatch(g);
        await a.publish(g, 's1', 2, false);
        const sentinel = await a.publish(other, 's1', 'sentinel', false);
        await hb.untilMessage(other, sentinel.offset);
        expect(hb.versions(g)).toEqual([received.v]);
      });
    });

    describe('discard', () => {
      it('with ifEmpty discards only an empty group; watchers get `discarded` and the id is free again', async () => {
        const [a, b, , ha, hb] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        await b.watch(g);
        expect(await b.discard(g, { ifEmpty: true, reason: 'empty' })).toBe(false);
        await a.leave(g, 's1', 'leave');
        expect(await b.discard(g, { ifEmpty: true, reason: 'empty' })).toBe(true);
        for (const h of [ha, hb]) {
          await h.untilVersion(g, 3);
          expect(h.events(g).map((e) => [e.type, e.v])).toEqual([
            ['left', 2],
            ['discarded', 3],
          ]);
          expect(h.events(g)[1]).toEqual({ type: 'discarded', group: g, v: 3, reason: 'empty' });
        }
        expect(await a.snapshot(g)).toBeNull();
        expect(await a.listGroups()).not.toContain(g);
        expect(await b.discard(g, { ifEmpty: false, reason: 'admin' })).toBe(false);
        const again = await b.createGroup(spec(g), member('s9', b.nodeId));
        expect(again.members).toEqual([member('s9', b.nodeId)]);
        expect(again.offset).toBe(0);
      });

      it('gives exactly one true to concurrent discards of one empty group', async () => {
        const cluster = await setup();
        const [a] = three(cluster);
        for (let round = 0; round < 5; round++) {
          const g = gid('discard');
          await a.createGroup(spec(g, { allowEmpty: true }), null);
          const results = await Promise.all(cluster.nodes.map((n) => n.discard(g, { ifEmpty: true, reason: 'empty' })));
          expect(results.filter(Boolean)).toHaveLength(1);
        }
      });

      it('without ifEmpty discards a group with members (admin); never a static group', async () => {
        const [a, b, , ha] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        expect(await b.discard(g, { ifEmpty: false, reason: 'admin' })).toBe(true);
        await ha.untilVersion(g, 2);
        expect(ha.events(g)).toEqual([{ type: 'discarded', group: g, v: 2, reason: 'admin' }]);
        const s = gid('static');
        await a.createGroup(spec(s, { allowEmpty: true, static: true }), null);
        expect(await b.discard(s, { ifEmpty: false, reason: 'admin' })).toBe(false);
        expect(await b.discard(s, { ifEmpty: true, reason: 'empty' })).toBe(false);
        expect(await b.snapshot(s)).not.toBeNull();
      });
    });

    describe('history', () => {
      it('returns the messages after an offset, in order and complete', async () => {
        const [a, b] = three(await setup());
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        for (let i = 1; i <= 5; i++) await a.publish(g, i % 2 ? 's1' : null, { i }, false);
        const all = await b.history(g, 0);
        expect(all.complete).toBe(true);
        expect(all.messages).toEqual(
          [1, 2, 3, 4, 5].map((i) => ({ group: g, from: i % 2 ? 's1' : null, data: { i }, offset: i })),
        );
        expect(await b.history(g, 3)).toEqual({ messages: all.messages.slice(3), complete: true });
        expect(await b.history(g, 5)).toEqual({ messages: [], complete: true });
        await expectCode(b.history(gid('missing'), 0), 'GROUP_NOT_FOUND');
      });

      it('says incomplete when the bounded history no longer holds what was asked', async () => {
        const [a] = three(await setup(3, { historySize: 10 }));
        const g = gid();
        await a.createGroup(spec(g), member('s1', a.nodeId));
        const n = 250;
        for (let i = 1; i <= n; i++) await a.publish(g, 's1', i, false);
        const old = await a.history(g, 0);
        expect(old.complete).toBe(false);
        expect(old.messages.length).toBeGreaterThanOrEqual(10);
        expect(old.messages.length).toBeLessThan(n);
        const offsets = old.messages.map((m) => m.offset);
        const firstOffset = offsets[0] as number;
        expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => firstOffset + i));
        expect(offsets.at(-1)).toBe(n);
        const recent = await a.history(g, n - 5);
        expect(recent.complete).toBe(true);
        expect(recent.messages.map((m) => m.data)).toEqual([246, 247, 248, 249, 250]);
      });
    });

    describe('sessions', () => {
      function record(id: string, node: string, options: Partial<SessionRecord> = {}): SessionRecord {
        return { id, node, tokenHash: 'hash-1', groups: { g1: 4, g2: 0 }, expiresAt: Date.now() + 30_000, windowMs: 30_000, user: 'u1', ...options };
      }

      it('takes a suspended session with the right hash only, moving it to the taker', async () => {
        const [a, b] = three(await setup());
        await a.saveSession(record('sess-1', a.nodeId));
        expect(await b.takeSession('sess-1', 'wrong')).toBeNull();
        expect(await b.takeSession('unknown', 'hash-1')).toBeNull();
        const taken = await b.takeSession('sess-1', 'hash-1');
        expect(taken).toEqual({ id: 'sess-1', node: b.nodeId, tokenHash: 'hash-1', groups: { g1: 4, g2: 0 }, expiresAt: null, windowMs: 30_000, user: 'u1' });
      });

      it('tells the holder when another node takes its session', async () => {
        const [a, b, , ha] = three(await setup());
        await a.saveSession(record('sess-2', a.nodeId));
        expect(await b.takeSession('sess-2', 'hash-1')).not.toBeNull();
        await ha.until((h) => h.records.some((r) => r.kind === 'sessionTaken' && r.session === 'sess-2'), 'sessionTaken');
      });

      it('takes over a session still connected on a live node (the client came back first) and tells that node', async () => {
        const [a, b, , ha] = three(await setup());
        await a.saveSession(record('sess-4', a.nodeId, { expiresAt: null }));
        expect(await b.takeSession('sess-4', 'wrong')).toBeNull();
        expect(await b.takeSession('sess-4', 'hash-1')).toMatchObject({ node: b.nodeId, expiresAt: null });
        await ha.until((h) => h.records.some((r) => r.kind === 'sessionTaken' && r.session === 'sess-4'), 'sessionTaken');
      });

      it('with an expected user, refuses a session of another user and changes nothing', async () => {
        const [a, b] = three(await setup());
        await a.saveSession(record('sess-8', a.nodeId));
        expect(await b.takeSession('sess-8', 'hash-1', { expectedUser: 'mallory' })).toBeNull();
        expect(await b.takeSession('sess-8', 'hash-1', { expectedUser: null })).toBeNull();
        expect(await b.takeSession('sess-8', 'hash-1', { expectedUser: 'u1' })).toMatchObject({ node: b.nodeId, user: 'u1' });
      });

      it('kicks a session held by another live node through that node', async () => {
        const [a, b, , ha] = three(await setup());
        await a.saveSession(record('sess-9', a.nodeId, { expiresAt: null }));
        expect(await b.kickSession('sess-9')).toBe(true);
        await ha.until((h) => h.records.some((r) => r.kind === 'sessionKicked' && r.session === 'sess-9'), 'sessionKicked');
        expect(await b.kickSession('unknown')).toBe(false);
      });

      it('refuses an expired session and a dropped one', async () => {
        const [a, b] = three(await setup());
        await a.saveSession(record('sess-3', a.nodeId, { expiresAt: Date.now() - 1 }));
        expect(await b.takeSession('sess-3', 'hash-1')).toBeNull();
        await a.saveSession(record('sess-5', a.nodeId));
        await a.dropSession('sess-5');
        expect(await b.takeSession('sess-5', 'hash-1')).toBeNull();
      });

      it('drops a record; with ifNode, not one another node holds now', async () => {
        const [a, b] = three(await setup());
        await a.saveSession(record('sess-7', a.nodeId));
        expect(await a.dropSession('sess-7', b.nodeId)).toBe(false);
        expect(await b.takeSession('sess-7', 'hash-1')).not.toBeNull();
        // The window ending on the old node must not undo the resume on b.
        expect(await a.dropSession('sess-7', a.nodeId)).toBe(false);
        expect(await b.dropSession('sess-7', b.nodeId)).toBe(true);
        expect(await b.takeSession('sess-7', 'hash-1')).toBeNull();
        // A missing record (dropped, expired) is gone either way.
        expect(await a.dropSession('sess-7', a.nodeId)).toBe(true);
        expect(await b.dropSession('sess-7')).toBe(true);
      });

      it('gives a session to exactly one of concurrent takers', async () => {
        const cluster = await setup();
        const [a, b, c] = three(cluster);
        await a.saveSession(record('sess-6', a.nodeId));
        // Each take rotates the token hash in the same step, so the second one's token is stale.
        const results = await Promise.all([b.takeSession('sess-6', 'hash-1', { newTokenHash: 'hash-b' }), c.takeSession('sess-6', 'hash-1', { newTokenHash: 'hash-c' })]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        const winner = results.find((r) => r !== null);
        expect(winner?.tokenHash).toBe(winner?.node === b.nodeId ? 'hash-b' : 'hash-c');
      });
    });

    describe('listGroups', () => {
      it('lists every existing group, not discarded ones', async () => {
        const [a, b] = three(await setup());
        const g1 = gid();
        const g2 = gid();
        await a.createGroup(spec(g1), member('s1', a.nodeId));
        await b.createGroup(spec(g2, { allowEmpty: true }), null);
        expect(await b.listGroups()).toEqual(expect.arrayContaining([g1, g2]));
        await a.discard(g2, { ifEmpty: true, reason: 'empty' });
        const listed = await a.listGroups();
        expect(listed).toContain(g1);
        expect(listed).not.toContain(g2);
      });
    });

    describe('reassert', () => {
      it('re-creates a missing group with its offset and this node`s members only', async () => {
        const [a, b, , ha, hb] = three(await setup());
        const g = gid();
        const lost: GroupSnapshot = {
          spec: spec(g),
          members: [member('s1', a.nodeId, 'a1'), member('s2', b.nodeId)],
          offset: 7,
          v: 12,
          everActive: true,
        };
        await a.reassert([lost]);
        const afterA = (await b.snapshot(g)) as GroupSnapshot;
        expect(afterA.members).toEqual([member('s1', a.nodeId, 'a1')]);
        expect(afterA.offset).toBe(7);
        expect(afterA.v).toBeGreaterThanOrEqual(12);
        expect(await a.listGroups()).toContain(g);
        await b.reassert([lost]);
        const afterB = (await a.snapshot(g)) as GroupSnapshot;
        expect(byId(afterB.members)).toEqual([member('s1', a.nodeId, 'a1'), member('s2', b.nodeId)]);
        // a watches the group since its reassert: it sees b's member come back.
        const joined = await ha.waitForEvent((e) => e.group === g && e.type === 'joined', 'joined of s2');
        expect(joined).toMatchObject({ type: 'joined', member: member('s2', b.nodeId), size: 2, v: afterB.v });
        const sent = await b.publish(g, 's2', 'next', false);
        expect(sent.offset).toBe(8);
        expect((await hb.untilMessage(g, 8)).v).toBe(afterB.v + 1);
        expect((await ha.untilMessage(g, 8)).v).toBe(afterB.v + 1);
      });

      it('adds only this node`s missing members to an existing group and never overrides others', async () => {
        const [a, b, , , hb] = three(await setup());
        const g = gid();
        const snap = await a.createGroup(spec(g), member('s1', a.nodeId));
        await b.watch(g);
        await b.rejoin(g, member('s1', b.nodeId));
        await a.reassert([{ ...snap, members: [member('s1', a.nodeId), member('s3', a.nodeId)] }]);
        const now = (await b.snapshot(g)) as GroupSnapshot;
        expect(byId(now.members)).toEqual([member('s1', b.nodeId), member('s3', a.nodeId)]);
        await hb.untilVersion(g, 3);
        expect(hb.events(g).map((e) => e.type)).toEqual(['rejoined', 'joined']);
      });
    });
  });
}
