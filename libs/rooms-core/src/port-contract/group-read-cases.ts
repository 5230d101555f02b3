import type { GroupSnapshot, ReassertedGroup } from '../port/group-log.js';
import { assertCode, assertEqual, assertExcludes, assertIncludes, assertMatch, assertTrue } from './assertions.js';
import type { ContractCases } from './fixtures.js';
import { assertVersions, byId, gid, member, spec, three } from './fixtures.js';

/** The group log's reads and recovery: `watch`, `unwatch`, `history`, `listGroups`, `reassert`. */
export function groupReadCases({ api: { describe, it }, setup }: ContractCases): void {
  describe('watch', () => {
    it('returns the snapshot, or null for a missing group', async () => {
      const [a, b] = three(await setup());
      assertEqual(await b.groups.watch(gid('missing')), null, 'watch of a missing group');
      const g = gid();
      await a.groups.createGroup(spec(g, { meta: { m: true } }), member('s1', a.nodeId));
      await a.groups.publish(g, 's1', 'x', false);
      const snap = await b.groups.watch(g);
      assertEqual(snap, { spec: spec(g, { meta: { m: true } }), members: [member('s1', a.nodeId)], offset: 1, v: 2, everActive: true }, 'snapshot');
    });

    it('delivers exactly the events after the snapshot, also while changes race with the watch', async () => {
      const [a, b, , , hb] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      const before = Array.from({ length: 10 }, (_, i) => a.groups.publish(g, 's1', i, false));
      const watching = b.groups.watch(g);
      const after = Array.from({ length: 10 }, (_, i) => a.groups.publish(g, 's1', 10 + i, false));
      const [snap, sent] = await Promise.all([watching, Promise.all([...before, ...after])]);
      assertEqual(Math.max(...sent.map((s) => s.offset)), 20, 'the last offset');
      const from = (snap as GroupSnapshot).v + 1;
      const sentinel = await a.groups.publish(g, 's1', 'sentinel', false);
      const last = await hb.untilMessage(g, sentinel.offset);
      assertEqual(last.v, 22, 'v of the sentinel');
      assertVersions(hb, g, from, 22);
    });

    it('sends no event of a group to a node that does not watch it', async () => {
      const [a, , c, , , hc] = three(await setup());
      const g = gid();
      const other = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await a.groups.createGroup(spec(other), member('s1', a.nodeId));
      await c.groups.watch(other);
      await a.groups.publish(g, 's1', 'not for c', false);
      const sentinel = await a.groups.publish(other, 's1', 'for c', false);
      await hc.untilMessage(other, sentinel.offset);
      assertEqual(hc.events(g), [], 'events of the unwatched group');
    });

    it('stops the events after unwatch', async () => {
      const [a, b, , , hb] = three(await setup());
      const g = gid();
      const other = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await a.groups.createGroup(spec(other), member('s1', a.nodeId));
      await b.groups.watch(g);
      await b.groups.watch(other);
      const first = await a.groups.publish(g, 's1', 1, false);
      const received = await hb.untilMessage(g, first.offset);
      await b.groups.unwatch(g);
      await a.groups.publish(g, 's1', 2, false);
      const sentinel = await a.groups.publish(other, 's1', 'sentinel', false);
      await hb.untilMessage(other, sentinel.offset);
      assertEqual(hb.versions(g), [received.v], 'versions received');
    });
  });

  describe('history', () => {
    it('returns the messages after an offset, in order and complete', async () => {
      const [a, b] = three(await setup());
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      for (let i = 1; i <= 5; i++) await a.groups.publish(g, i % 2 ? 's1' : null, { i }, false);
      const all = await b.groups.history(g, 0);
      assertEqual(all.complete, true, 'complete');
      const expected = [1, 2, 3, 4, 5].map((i) => ({ group: g, from: i % 2 ? 's1' : null, data: { i }, offset: i }));
      assertEqual(all.messages, expected, 'messages');
      assertEqual(await b.groups.history(g, 3), { messages: all.messages.slice(3), complete: true }, 'history after 3');
      assertEqual(await b.groups.history(g, 5), { messages: [], complete: true }, 'history after the last');
      await assertCode(b.groups.history(gid('missing'), 0), 'GROUP_NOT_FOUND', 'history of a missing group');
    });

    it('says incomplete when the bounded history no longer holds what was asked', async () => {
      const [a] = three(await setup(3, { historySize: 10 }));
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      const n = 250;
      for (let i = 1; i <= n; i++) await a.groups.publish(g, 's1', i, false);
      const old = await a.groups.history(g, 0);
      assertEqual(old.complete, false, 'complete');
      assertTrue(old.messages.length >= 10 && old.messages.length < n, `between 10 and ${n} messages kept, got ${old.messages.length}`);
      const offsets = old.messages.map((m) => m.offset);
      const firstOffset = offsets[0] as number;
      assertEqual(offsets, Array.from({ length: offsets.length }, (_, i) => firstOffset + i), 'offsets kept');
      assertEqual(offsets.at(-1), n, 'the last offset');
      const recent = await a.groups.history(g, n - 5);
      assertEqual(recent.complete, true, 'recent history complete');
      assertEqual(recent.messages.map((m) => m.data), [246, 247, 248, 249, 250], 'recent messages');
    });
  });

  describe('listGroups', () => {
    it('lists every existing group, not discarded ones', async () => {
      const [a, b] = three(await setup());
      const g1 = gid();
      const g2 = gid();
      await a.groups.createGroup(spec(g1), member('s1', a.nodeId));
      await b.groups.createGroup(spec(g2, { allowEmpty: true }), null);
      const before = await b.groups.listGroups();
      assertIncludes(before, g1, 'listed groups');
      assertIncludes(before, g2, 'listed groups');
      await a.groups.discard(g2, { ifEmpty: true, reason: 'empty' });
      const listed = await a.groups.listGroups();
      assertIncludes(listed, g1, 'listed groups after the discard');
      assertExcludes(listed, g2, 'listed groups after the discard');
    });
  });

  describe('reassert', () => {
    it('re-creates a missing group with its offset and this node`s members only', async () => {
      const [a, b, , ha, hb] = three(await setup());
      const g = gid();
      const lost: GroupSnapshot = { spec: spec(g), members: [member('s1', a.nodeId, 'a1'), member('s2', b.nodeId)], offset: 7, v: 12, everActive: true };
      await a.groups.reassert([lost]);
      const afterA = (await b.groups.snapshot(g)) as GroupSnapshot;
      assertEqual(afterA.members, [member('s1', a.nodeId, 'a1')], "members after a's reassert");
      assertEqual(afterA.offset, 7, 'offset');
      assertTrue(afterA.v >= 12, `v at least 12, got ${afterA.v}`);
      assertIncludes(await a.groups.listGroups(), g, 'listed groups');
      await b.groups.reassert([lost]);
      const afterB = (await a.groups.snapshot(g)) as GroupSnapshot;
      assertEqual(byId(afterB.members), [member('s1', a.nodeId, 'a1'), member('s2', b.nodeId)], "members after b's reassert");
      // a watches the group since its reassert: it sees b's member come back (`rejoined`, held by no node before).
      const back = await ha.waitForEvent((e) => e.group === g && e.type === 'rejoined', 'rejoined of s2');
      assertMatch(back, { type: 'rejoined', member: member('s2', b.nodeId), previousNode: null, size: 2, v: afterB.v }, 'rejoined of s2');
      const sent = await b.groups.publish(g, 's2', 'next', false);
      assertEqual(sent.offset, 8, 'offset after the reassert');
      assertEqual((await hb.untilMessage(g, 8)).v, afterB.v + 1, "v of b's message");
      assertEqual((await ha.untilMessage(g, 8)).v, afterB.v + 1, "v of a's message");
    });

    it('writes back lost messages in offset order (history and events, original offsets); never twice', async () => {
      const [a, b, , ha, hb] = three(await setup());
      const g = gid();
      const messages = [
        { offset: 4, from: 's1', json: '"four"', self: false },
        { offset: 5, from: null, json: '{"n":5}', self: true },
      ];
      const lost: ReassertedGroup = { spec: spec(g), members: [member('s1', a.nodeId)], offset: 5, v: 9, everActive: true, messages };
      await a.groups.reassert([lost]);
      const four = await ha.untilMessage(g, 4);
      assertMatch(four, { type: 'message', from: 's1', data: 'four', offset: 4, self: false }, 'event of offset 4');
      const five = await ha.untilMessage(g, 5);
      assertMatch(five, { type: 'message', from: null, data: { n: 5 }, offset: 5, self: true }, 'event of offset 5');
      assertTrue(five.v === four.v + 1, `versions in a row, got ${four.v} and ${five.v}`);
      const restored = await b.groups.history(g, 3);
      assertEqual(restored.messages.map((m) => [m.offset, m.from, m.data]), [[4, 's1', 'four'], [5, null, { n: 5 }]], 'history after the restore');
      assertTrue(restored.complete, 'history from offset 4 is complete');
      assertTrue(!(await b.groups.history(g, 2)).complete, 'history before offset 4 is not');
      // Again (a second re-assert): the history holds them, nothing is written or published twice.
      const watched = (await b.groups.watch(g)) as GroupSnapshot;
      await a.groups.reassert([lost]);
      const sent = await a.groups.publish(g, 's1', 'six', false);
      assertEqual(sent.offset, 6, 'offset after the restore');
      await hb.untilMessage(g, 6);
      assertEqual(hb.events(g).filter((e) => e.v > watched.v).map((e) => e.type), ['message'], "b's events after it watched");
      assertEqual((await b.groups.history(g, 3)).messages.map((m) => m.offset), [4, 5, 6], 'history at the end');
    });

    it('adds only this node`s missing members to an existing group and never overrides others', async () => {
      const [a, b, , , hb] = three(await setup());
      const g = gid();
      const snap = await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await b.groups.watch(g);
      await b.groups.rejoin(g, member('s1', b.nodeId));
      await a.groups.reassert([{ ...snap, members: [member('s1', a.nodeId), member('s3', a.nodeId)] }]);
      const now = (await b.groups.snapshot(g)) as GroupSnapshot;
      assertEqual(byId(now.members), [member('s1', b.nodeId), member('s3', a.nodeId)], 'members');
      await hb.untilVersion(g, 3);
      assertEqual(hb.events(g).map((e) => e.type), ['rejoined', 'rejoined'], 'events');
      assertMatch(hb.events(g)[1], { member: member('s3', a.nodeId), previousNode: null }, 'the re-asserted member');
    });

    it('re-adds members only while the group has room by its stored maxMembers, in the order given', async () => {
      const [a, b, c, ha] = three(await setup());
      const g = gid();
      const mine = [member('a1', a.nodeId), member('a2', a.nodeId), member('a3', a.nodeId)];
      await a.groups.reassert([{ spec: spec(g, { maxMembers: 2 }), members: mine, offset: 4, v: 9, everActive: true }]);
      const afterA = (await c.groups.snapshot(g)) as GroupSnapshot;
      assertEqual(byId(afterA.members), [member('a1', a.nodeId), member('a2', a.nodeId)], "members after a's reassert");
      await b.groups.reassert([{ spec: spec(g, { maxMembers: 2 }), members: [member('b1', b.nodeId)], offset: 4, v: 9, everActive: true }]);
      const afterB = (await c.groups.snapshot(g)) as GroupSnapshot;
      assertEqual(byId(afterB.members), byId(afterA.members), "members after b's reassert");
      assertEqual(afterB.v, afterA.v, 'no event for a member that found no room');
      const sent = await c.groups.publish(g, null, 'sentinel', false);
      await ha.untilMessage(g, sent.offset);
      assertTrue(!ha.events(g).some((e) => e.type === 'rejoined' && e.member.id === 'b1'), 'no event for b1');

      // A group created again meanwhile keeps its own (smaller) maxMembers.
      const again = gid();
      await c.groups.createGroup(spec(again, { maxMembers: 1 }), member('c1', c.nodeId));
      await a.groups.reassert([{ spec: spec(again, { maxMembers: 5 }), members: [member('a4', a.nodeId)], offset: 0, v: 1, everActive: true }]);
      const kept = (await c.groups.snapshot(again)) as GroupSnapshot;
      assertEqual(kept.members, [member('c1', c.nodeId)], 'members of the group created again');
      assertEqual(kept.spec.maxMembers, 1, 'its maxMembers');
    });
  });
}
