import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoomsError } from '../src/index.js';
import { expectRoomsError, registerAll, TestNodes } from './support/nodes.js';
import type { TestNode } from './support/nodes.js';

describe('two nodes on one InMemoryStore', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  /** A holds s1 (creator of g) and s2; B holds b1. All three are in g. */
  async function sharedGroup(options: Parameters<TestNodes['start']>[0] = {}): Promise<{ a: TestNode; b: TestNode }> {
    const a = await nodes.start({ ...options, id: 'A' });
    const b = await nodes.start({ ...options, id: 'B' });
    await registerAll(a.node, 's1', 's2');
    await registerAll(b.node, 'b1');
    await a.node.create('s1', { group: 'g' });
    await b.node.join('b1', 'g');
    await a.node.join('s2', 'g');
    a.delivery.clear();
    b.delivery.clear();
    return { a, b };
  }

  it('a join on A is seen in members on B and B’s local members get joined', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await registerAll(a.node, 's1', 's2');
    await registerAll(b.node, 'b1');
    await a.node.create('s1', { group: 'g' });
    await b.node.join('b1', 'g');
    b.delivery.clear();
    await a.node.join('s2', 'g', { data: 'from A' });
    expect(await b.node.members('g')).toEqual([
      { id: 's1', node: 'A' },
      { id: 'b1', node: 'B' },
      { id: 's2', node: 'A', data: 'from A' },
    ]);
    expect(b.delivery.eventsFor('b1')).toEqual([{ ev: 'joined', group: 'g', member: { id: 's2', node: 'A', data: 'from A' }, data: 'from A' }]);
    expect(await b.node.groupInfo('g')).toMatchObject({ size: 3, nodes: ['A', 'B'] });
  });

  it('a node with no member in a group still answers members and groupInfo from the store', async () => {
    const { a } = await sharedGroup();
    const c = await nodes.start({ id: 'C' });
    expect((await c.node.members('g')).map((m) => m.id)).toEqual(['s1', 'b1', 's2']);
    expect(await c.node.groupInfo('g')).toMatchObject({ state: 'active', size: 3, nodes: ['A', 'B'] });
    await a.node.leave('s2', 'g');
    expect((await c.node.members('g')).map((m) => m.id)).toEqual(['s1', 'b1']);
  });

  it('a broadcast from A reaches B’s members with the same offsets', async () => {
    const { a, b } = await sharedGroup();
    for (const text of ['one', 'two', 'three']) await a.node.broadcast('s1', 'g', text);
    expect((await b.node.broadcast('b1', 'g', 'four')).recipients).toBe(2);
    const offsetsOf = (node: TestNode, session: string) => node.delivery.eventsOf(session, 'message').map((m) => [m.offset, m.data]);
    expect(offsetsOf(b, 'b1')).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect(offsetsOf(a, 's2')).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
      [4, 'four'],
    ]);
    // One deliver call per event per node.
    expect(b.delivery.log).toHaveLength(3);
  });

  it('maxMembers holds under concurrent joins on both nodes', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    const onA = ['a1', 'a2', 'a3', 'a4', 'a5'];
    const onB = ['b1', 'b2', 'b3', 'b4', 'b5'];
    await registerAll(a.node, 'creator', ...onA);
    await registerAll(b.node, ...onB);
    await a.node.create('creator', { group: 'g', maxMembers: 4 });
    const results = await Promise.allSettled([
      ...onA.map((s) => a.node.join(s, 'g')),
      ...onB.map((s) => b.node.join(s, 'g')),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(3);
    expect(rejected).toHaveLength(7);
    for (const r of rejected) expect(r.reason).toMatchObject({ code: 'GROUP_FULL' });
    const snapshot = await a.backend.groups.snapshot('g');
    expect(snapshot?.members).toHaveLength(4);
    expect((await a.node.members('g')).map((m) => m.id).sort()).toEqual(snapshot?.members.map((m) => m.id).sort());
    expect((await b.node.members('g')).map((m) => m.id).sort()).toEqual(snapshot?.members.map((m) => m.id).sort());
    const local = a.node.registry.sessionsOf('g').size + b.node.registry.sessionsOf('g').size;
    expect(local).toBe(4);
  });

  it('concurrent creates of one id on two nodes give exactly one GROUP_EXISTS', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await registerAll(a.node, 's1');
    await registerAll(b.node, 'b1');
    const results = await Promise.allSettled([a.node.create('s1', { group: 'g' }), b.node.create('b1', { group: 'g' })]);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toMatchObject({ code: 'GROUP_EXISTS' });
    expect(await a.node.members('g')).toHaveLength(1);
    expect(await b.node.members('g')).toHaveLength(1);
  });

  it('when A dies, B’s members get left with reason node-down for A’s members', async () => {
    const { b } = await sharedGroup({ disconnectMessage: (member, _group, reason) => `${member.id} ${reason}` });
    nodes.store.killNode('A');
    expect(b.delivery.eventsFor('b1')).toEqual([
      { ev: 'left', group: 'g', member: { id: 's1', node: 'A' }, reason: 'node-down', data: 's1 node-down' },
      { ev: 'left', group: 'g', member: { id: 's2', node: 'A' }, reason: 'node-down', data: 's2 node-down' },
    ]);
    expect(await b.node.members('g')).toEqual([{ id: 'b1', node: 'B' }]);
    expect(nodes.store.liveNodes()).toEqual(['B']);
  });

  it('while the store is unreachable, join and create reject UNAVAILABLE (temporary) and nothing changes', async () => {
    const { a, b } = await sharedGroup();
    await registerAll(b.node, 'b2');
    await registerAll(a.node, 's3');
    nodes.store.setAvailable(false);
    expect(a.node.available).toBe(false);
    expect(a.node.ready).toBe(false);
    for (const attempt of [b.node.join('b2', 'g'), a.node.join('s3', 'g'), a.node.create('s3', { group: 'h' }), b.node.create('b2')]) {
      const error = await expectRoomsError(attempt, 'UNAVAILABLE');
      expect(error.temporary).toBe(true);
    }
    await expectRoomsError(a.node.broadcast('s1', 'g', 'x'), 'UNAVAILABLE');
    expect(a.delivery.log).toEqual([]);
    expect(b.delivery.log).toEqual([]);
    expect((await a.node.members('g')).map((m) => m.id)).toEqual(['s1', 'b1', 's2']);
    expect(b.node.groupsOf('b2')).toEqual({ groups: [], latest: null });
    expect(a.node.groupsOf('s3')).toEqual({ groups: [], latest: null });
    nodes.store.setAvailable(true);
    // Back, but not ready (and joins UNAVAILABLE) until each node re-asserted its groups and members.
    expect(a.node.ready).toBe(false);
    await expectRoomsError(b.node.join('b2', 'g'), 'UNAVAILABLE');
    await vi.waitFor(() => expect(a.node.ready && b.node.ready).toBe(true));
    expect((await b.node.join('b2', 'g')).already).toBe(false);
  });

  it('after a store restart without data (wipe), the view converges and offsets do not go back', async () => {
    const { a, b } = await sharedGroup();
    for (const text of ['one', 'two', 'three']) await a.node.broadcast('s1', 'g', text);
    a.delivery.clear();
    b.delivery.clear();
    nodes.store.setAvailable(false);
    nodes.store.wipe();
    nodes.store.setAvailable(true);
    await vi.waitFor(async () => {
      expect((await a.backend.groups.snapshot('g'))?.members.map((m) => m.id).sort()).toEqual(['b1', 's1', 's2']);
    });
    expect(await a.node.listGroups()).toEqual(['g']);
    expect((await a.node.members('g')).map((m) => m.id).sort()).toEqual(['b1', 's1', 's2']);
    expect((await b.node.members('g')).map((m) => m.id).sort()).toEqual(['b1', 's1', 's2']);
    // Nobody left or joined in truth, so members were told nothing.
    expect(a.delivery.log).toEqual([]);
    expect(b.delivery.log).toEqual([]);
    expect(await b.node.broadcast('b1', 'g', 'four')).toEqual({ recipients: 2, offset: 4 });
    expect(a.delivery.eventsOf('s1', 'message').map((m) => m.offset)).toEqual([4]);
    // Joins work again on both nodes.
    await registerAll(b.node, 'b2');
    expect((await b.node.join('b2', 'g')).members).toHaveLength(4);
    expect(a.delivery.eventsOf('s1', 'joined').map((e) => e.member.id)).toEqual(['b2']);
  });

  it('a join on a node that does not watch the group fails GROUP_NOT_FOUND once the group is discarded elsewhere', async () => {
    const { a, b } = await sharedGroup();
    await a.node.discard('g');
    expect(b.delivery.eventsFor('b1')).toEqual([{ ev: 'discarded', group: 'g', reason: 'admin' }]);
    await registerAll(b.node, 'b2');
    const error = await b.node.join('b2', 'g').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoomsError);
    expect(error).toMatchObject({ code: 'GROUP_NOT_FOUND' });
  });
});
