import type { RoomsError } from '@rooms-kit/contract';
import type { Backend } from '../port/backend.js';
import type { GroupSnapshot, ReplicaEvent } from '../port/group-log.js';
import { assertCode, assertEqual, assertExcludes, assertMatch, assertTrue } from './assertions.js';
import type { ContractCases } from './fixtures.js';
import { assertVersions, byId, gid, member, ofType, spec, three } from './fixtures.js';

/** The group log's changes: `createGroup`, `join`, `leave`, `rejoin`, `publish`, `discard`. */
export function groupChangeCases({ api: { describe, it }, setup }: ContractCases): void {
  describe('createGroup', () => {
    it('creates a group with its first member and watches it', async () => {
      const [a, b, , ha] = three(await setup());
      const g = gid();
      const snap = await a.groups.createGroup(spec(g, { maxMembers: 5, meta: { k: 1 } }), member('s1', a.nodeId, { hi: 1 }));
      assertEqual(snap.spec, spec(g, { maxMembers: 5, meta: { k: 1 } }), 'spec');
      assertEqual(snap.members, [member('s1', a.nodeId, { hi: 1 })], 'members');
      assertMatch(snap, { offset: 0, v: 1, everActive: true }, 'snapshot');
      await b.groups.watch(g);
      const joined = await b.groups.join(g, member('s2', b.nodeId));
      assertEqual(joined.v, 2, 'v of the join');
      await ha.untilVersion(g, 2);
      assertEqual(ha.events(g), [{ type: 'joined', group: g, v: 2, member: member('s2', b.nodeId), size: 2 }], "the creator's events");
    });

    it('creates an empty group that never had a member', async () => {
      const [a, b] = three(await setup());
      const g = gid();
      const snap = await a.groups.createGroup(spec(g, { allowEmpty: true }), null);
      assertMatch(snap, { members: [], offset: 0, v: 0, everActive: false }, 'snapshot');
      assertEqual(await b.groups.snapshot(g), snap, 'snapshot read on another node');
    });

    it('rejects GROUP_EXISTS for an existing id', async () => {
      const [a, b] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await assertCode(b.groups.createGroup(spec(g), member('s2', b.nodeId)), 'GROUP_EXISTS', 'a second create');
      await assertCode(a.groups.createGroup(spec(g, { allowEmpty: true }), null), 'GROUP_EXISTS', 'an empty create');
      assertEqual((await b.groups.snapshot(g))?.members, [member('s1', a.nodeId)], 'members');
    });

    it('gives exactly one success to concurrent creates of one id from two nodes', async () => {
      const [a, b] = three(await setup());
      for (let round = 0; round < 10; round++) {
        const g = gid('race');
        const results = await Promise.allSettled([a.groups.createGroup(spec(g), member('sa', a.nodeId)), b.groups.createGroup(spec(g), member('sb', b.nodeId))]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assertEqual(won.length, 1, 'creates that won');
        assertEqual(lost.length, 1, 'creates that lost');
        assertEqual((lost[0]?.reason as RoomsError).code, 'GROUP_EXISTS', 'code of the loser');
        assertEqual((await a.groups.snapshot(g))?.members.length, 1, 'members');
      }
    });
  });

  describe('order', () => {
    it('a change made from inside onEvent reaches every node after the event it was made in', async () => {
      const [a, b, c, ha, hb, hc] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g, { allowEmpty: true }), null);
      await b.groups.watch(g);
      await c.groups.watch(g);
      // The first node answers a message at once, from inside its event (as an embedder's delivery port may).
      const record = ha.onEvent.bind(ha);
      ha.onEvent = (event: ReplicaEvent): void => {
        record(event);
        if (event.type === 'message' && event.data === 'ping') void a.groups.publish(g, null, 'pong', true);
      };
      await b.groups.publish(g, 'someone', 'ping', false);
      for (const handler of [ha, hb, hc]) await handler.untilVersion(g, 2);
      for (const handler of [ha, hb, hc]) assertVersions(handler, g, 1, 2);
    });
  });

  describe('join', () => {
    it('adds a member; every watching node, the joiner included, gets `joined` once', async () => {
      const [a, b, c, ha, hb, hc] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await b.groups.watch(g);
      await c.groups.watch(g);
      const outcome = await c.groups.join(g, member('s3', c.nodeId, { x: 'y' }));
      assertMatch(outcome, { already: false, v: 2, offset: 0 }, 'outcome');
      const members = byId(((await a.groups.snapshot(g)) as GroupSnapshot).members);
      assertEqual(members, [member('s1', a.nodeId), member('s3', c.nodeId, { x: 'y' })], 'members');
      const expected: ReplicaEvent = { type: 'joined', group: g, v: 2, member: member('s3', c.nodeId, { x: 'y' }), size: 2 };
      for (const h of [ha, hb, hc]) {
        await h.untilVersion(g, 2);
        assertEqual(h.events(g), [expected], `${h.name}'s events`);
      }
    });

    it('answers `already` for a member, with no event', async () => {
      const [a, b, , ha, hb] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await b.groups.watch(g);
      const again = await a.groups.join(g, member('s1', a.nodeId));
      assertMatch(again, { already: true, v: 1, offset: 0 }, 'outcome');
      const sent = await a.groups.publish(g, 's1', 'after', false);
      for (const h of [ha, hb]) {
        await h.untilMessage(g, sent.offset);
        assertEqual(h.events(g).map((e) => e.type), ['message'], `${h.name}'s events`);
      }
    });

    it('rejects GROUP_NOT_FOUND and GROUP_FULL', async () => {
      const [a, b] = three(await setup());
      await assertCode(b.groups.join(gid('missing'), member('s1', b.nodeId)), 'GROUP_NOT_FOUND', 'a join of a missing group');
      const g = gid();
      await a.groups.createGroup(spec(g, { maxMembers: 1 }), member('s1', a.nodeId));
      await assertCode(b.groups.join(g, member('s2', b.nodeId)), 'GROUP_FULL', 'a join of a full group');
      assertEqual((await b.groups.snapshot(g))?.members, [member('s1', a.nodeId)], 'members');
    });

    it('holds maxMembers under 20 concurrent joins from 3 nodes', async () => {
      const cluster = await setup();
      const [a] = three(cluster);
      const g = gid();
      await a.groups.createGroup(spec(g, { allowEmpty: true, maxMembers: 5 }), null);
      await Promise.all(cluster.nodes.map((n) => n.groups.watch(g)));
      const joins = Array.from({ length: 20 }, (_, i) => {
        const node = cluster.nodes[i % 3] as Backend;
        return node.groups.join(g, member(`s${i}`, node.nodeId));
      });
      const results = await Promise.allSettled(joins);
      const admitted = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assertEqual(admitted.length, 5, 'joins admitted');
      assertEqual(refused.map((r) => (r.reason as RoomsError).code), Array(15).fill('GROUP_FULL'), 'codes of the refused joins');
      assertEqual((await a.groups.snapshot(g))?.members.length, 5, 'members');
      for (const h of cluster.handlers) {
        await h.untilVersion(g, 5);
        assertVersions(h, g, 1, 5);
        assertEqual(ofType(h.events(g), 'joined').map((e) => e.size), [1, 2, 3, 4, 5], `${h.name}'s sizes`);
      }
    });
  });

  describe('leave', () => {
    it('removes a member; watchers get `left` with the reason and data', async () => {
      const [a, b, , ha, hb] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await b.groups.watch(g);
      await b.groups.join(g, member('s2', b.nodeId));
      const v = await b.groups.leave(g, 's2', 'leave', { bye: true });
      assertEqual(v, 3, 'v of the leave');
      const expected: ReplicaEvent = { type: 'left', group: g, v: 3, member: member('s2', b.nodeId), reason: 'leave', data: { bye: true }, size: 1 };
      for (const h of [ha, hb]) {
        await h.untilVersion(g, 3);
        assertEqual(h.events(g)[1], expected, `${h.name}'s left`);
      }
      const v2 = await a.groups.leave(g, 's1', 'kicked');
      await ha.untilVersion(g, v2 as number);
      assertEqual(ha.events(g)[2], { type: 'left', group: g, v: 4, member: member('s1', a.nodeId), reason: 'kicked', size: 0 }, 'the last left');
      assertEqual((await a.groups.snapshot(g))?.members, [], 'members');
    });

    it('resolves null for a non-member, with no event; rejects GROUP_NOT_FOUND for a missing group', async () => {
      const [a, , , ha] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      assertEqual(await a.groups.leave(g, 'nobody', 'leave'), null, 'leave of a non-member');
      const sent = await a.groups.publish(g, null, 1, true);
      await ha.untilMessage(g, sent.offset);
      assertEqual(ha.events(g).map((e) => e.type), ['message'], 'events');
      await assertCode(a.groups.leave(gid('missing'), 's1', 'leave'), 'GROUP_NOT_FOUND', 'leave of a missing group');
    });
  });

  describe('rejoin', () => {
    it('moves a present member to its new node, keeping its join data (`rejoined` with the previous node)', async () => {
      const [a, b, , ha, hb] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId, 'd'));
      await b.groups.watch(g);
      const v = await b.groups.rejoin(g, member('s1', b.nodeId));
      assertEqual(v, 2, 'v of the rejoin');
      for (const h of [ha, hb]) {
        await h.untilVersion(g, 2);
        const expected = [{ type: 'rejoined', group: g, v: 2, member: member('s1', b.nodeId, 'd'), previousNode: a.nodeId, size: 1 }];
        assertEqual(h.events(g), expected, `${h.name}'s events`);
      }
      assertEqual((await a.groups.snapshot(g))?.members, [member('s1', b.nodeId, 'd')], 'members');
    });

    it('adds an absent member when there is room; null when full or missing', async () => {
      const [a, b, , ha] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g, { maxMembers: 2 }), member('s1', a.nodeId));
      const v = await b.groups.rejoin(g, member('s2', b.nodeId));
      assertEqual(v, 2, 'v of the rejoin');
      await ha.untilVersion(g, 2);
      assertEqual(ha.events(g), [{ type: 'rejoined', group: g, v: 2, member: member('s2', b.nodeId), previousNode: null, size: 2 }], 'events');
      assertEqual(await b.groups.rejoin(g, member('s3', b.nodeId)), null, 'rejoin of a full group');
      assertEqual(await b.groups.rejoin(gid('missing'), member('s3', b.nodeId)), null, 'rejoin of a missing group');
      assertEqual((await a.groups.snapshot(g))?.members.length, 2, 'members');
    });
  });

  describe('publish', () => {
    it('gives offsets 1..n; every watching node gets every message once, in order', async () => {
      const cluster = await setup();
      const [a] = three(cluster);
      const g = gid();
      await a.groups.createGroup(spec(g, { allowEmpty: true }), null);
      await Promise.all(cluster.nodes.slice(1).map((n) => n.groups.watch(g)));
      const n = 30;
      const sent = await Promise.all(Array.from({ length: n }, (_, i) => (cluster.nodes[i % 3] as Backend).groups.publish(g, `s${i % 3}`, { i }, i % 2 === 0)));
      const offsets = Array.from({ length: n }, (_, i) => i + 1);
      assertEqual(sent.map((r) => r.offset).sort((x, y) => x - y), offsets, 'offsets given');
      assertTrue(sent.every((r) => r.size === 0), 'every publish reports 0 members');
      for (const h of cluster.handlers) {
        await h.untilVersion(g, n);
        assertVersions(h, g, 1, n);
        const messages = ofType(h.events(g), 'message');
        assertEqual(messages.map((m) => m.offset), offsets, `${h.name}'s offsets`);
        for (const m of messages) {
          const i = (m.data as { i: number }).i;
          assertMatch(m, { from: `s${i % 3}`, self: i % 2 === 0 }, `${h.name}'s message ${i}`);
          assertEqual(sent[i]?.offset, m.offset, `offset of message ${i}`);
        }
      }
    });

    it('rejects GROUP_NOT_FOUND for a missing group and reports the member count', async () => {
      const [a, b] = three(await setup());
      await assertCode(a.groups.publish(gid('missing'), null, 1, false), 'GROUP_NOT_FOUND', 'publish to a missing group');
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await b.groups.watch(g);
      await b.groups.join(g, member('s2', b.nodeId));
      assertEqual(await b.groups.publish(g, 's2', null, false), { offset: 1, size: 2 }, 'publish result');
    });
  });

  describe('discard', () => {
    it('with ifEmpty discards only an empty group; watchers get `discarded` and the id is free again', async () => {
      const [a, b, , ha, hb] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await b.groups.watch(g);
      assertEqual(await b.groups.discard(g, { ifEmpty: true, reason: 'empty' }), false, 'discard of a group with a member');
      await a.groups.leave(g, 's1', 'leave');
      assertEqual(await b.groups.discard(g, { ifEmpty: true, reason: 'empty' }), true, 'discard of the empty group');
      for (const h of [ha, hb]) {
        await h.untilVersion(g, 3);
        assertEqual(h.events(g).map((e) => [e.type, e.v]), [['left', 2], ['discarded', 3]], `${h.name}'s events`);
        assertEqual(h.events(g)[1], { type: 'discarded', group: g, v: 3, reason: 'empty' }, `${h.name}'s discarded`);
      }
      assertEqual(await a.groups.snapshot(g), null, 'snapshot after the discard');
      assertExcludes(await a.groups.listGroups(), g, 'listed groups');
      assertEqual(await b.groups.discard(g, { ifEmpty: false, reason: 'admin' }), false, 'a second discard');
      const again = await b.groups.createGroup(spec(g), member('s9', b.nodeId));
      assertEqual(again.members, [member('s9', b.nodeId)], 'members of the new group');
      assertEqual(again.offset, 0, 'offset of the new group');
    });

    it('gives exactly one true to concurrent discards of one empty group', async () => {
      const cluster = await setup();
      const [a] = three(cluster);
      for (let round = 0; round < 5; round++) {
        const g = gid('discard');
        await a.groups.createGroup(spec(g, { allowEmpty: true }), null);
        const results = await Promise.all(cluster.nodes.map((n) => n.groups.discard(g, { ifEmpty: true, reason: 'empty' })));
        assertEqual(results.filter(Boolean).length, 1, 'discards that won');
      }
    });

    it('without ifEmpty discards a group with members (admin); never a static group', async () => {
      const [a, b, , ha] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      assertEqual(await b.groups.discard(g, { ifEmpty: false, reason: 'admin' }), true, 'admin discard');
      await ha.untilVersion(g, 2);
      assertEqual(ha.events(g), [{ type: 'discarded', group: g, v: 2, reason: 'admin' }], 'events');
      const s = gid('static');
      await a.groups.createGroup(spec(s, { allowEmpty: true, static: true }), null);
      assertEqual(await b.groups.discard(s, { ifEmpty: false, reason: 'admin' }), false, 'admin discard of a static group');
      assertEqual(await b.groups.discard(s, { ifEmpty: true, reason: 'empty' }), false, 'empty discard of a static group');
      assertTrue((await b.groups.snapshot(s)) !== null, 'the static group is still there');
    });
  });
}
