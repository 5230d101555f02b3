import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerAll, TestNodes } from '../support/nodes.js';
import type { TestNode } from '../support/nodes.js';

// Issue 13, item 9: a node stalled past its liveness is found dead (its members leave with `node-down`); when it wakes
// it re-asserts them. The others must get `rejoined` (PROTOCOL.md: a member removed with node-down that comes back),
// not `joined`; the members of the stalled node itself never saw anyone leave and hear nothing. After a store that
// lost its data (nobody saw anyone leave), nobody hears anything either.

let nodes: TestNodes;
beforeEach(() => {
  nodes = new TestNodes();
});
afterEach(() => nodes.closeAll());

/** A holds a1 (creator of g) and a2, B holds b1; all three are in g. */
async function sharedGroup(): Promise<{ a: TestNode; b: TestNode }> {
  const a = await nodes.start({ id: 'A' });
  const b = await nodes.start({ id: 'B' });
  await registerAll(a.node, 'a1', 'a2');
  await registerAll(b.node, 'b1');
  await a.node.create('a1', { group: 'g' });
  await a.node.join('a2', 'g');
  await b.node.join('b1', 'g');
  a.delivery.clear();
  b.delivery.clear();
  return { a, b };
}

/**
 * What the store does to a node that stalled past its liveness, and what the node then learns: the cleanup removes
 * its members (`left` node-down to every watcher), and once awake the node finds it was taken for dead and reconciles
 * (`onReconnected`), as the Redis backend's liveness makes it do.
 */
function stallPastLiveness(node: string): void {
  nodes.store.groups.removeNode(node);
  const attached = nodes.store.nodes.get(node);
  if (!attached) throw new Error(`node ${node} is not attached`);
  attached.handler.onReconnected();
}

describe('a node taken for dead after a stall re-asserts its members', () => {
  it('the other nodes’ members get left node-down, then rejoined (not joined); the stalled node’s members hear nothing', async () => {
    const { a, b } = await sharedGroup();
    stallPastLiveness('A');
    expect(b.delivery.eventsOf('b1', 'left').map((e) => [e.member.id, e.reason])).toEqual([
      ['a1', 'node-down'],
      ['a2', 'node-down'],
    ]);
    await vi.waitFor(() => expect(b.delivery.eventsOf('b1', 'rejoined')).toHaveLength(2));
    expect(b.delivery.eventsOf('b1', 'joined')).toEqual([]);
    expect(b.delivery.eventsOf('b1', 'rejoined')).toEqual([
      { ev: 'rejoined', group: 'g', member: { id: 'a1', node: 'A' } },
      { ev: 'rejoined', group: 'g', member: { id: 'a2', node: 'A' } },
    ]);
    await vi.waitFor(() => expect(a.node.ready).toBe(true));
    expect(a.delivery.log).toEqual([]);
    // A's sessions are still members where it matters: in the store, as B sees it, and on A (a broadcast reaches them).
    expect((await b.node.members('g')).map((m) => m.id).sort()).toEqual(['a1', 'a2', 'b1']);
    await b.node.broadcast('b1', 'g', 'after');
    await vi.waitFor(() => expect(a.delivery.eventsOf('a1', 'message').map((m) => m.data)).toEqual(['after']));
    expect(a.delivery.eventsOf('a2', 'message').map((m) => m.data)).toEqual(['after']);
  });

  it('after the store lost its data, the re-asserted members are told nothing on any node', async () => {
    const { a, b } = await sharedGroup();
    nodes.store.setAvailable(false);
    nodes.store.wipe();
    nodes.store.setAvailable(true);
    await vi.waitFor(() => expect(a.node.ready && b.node.ready).toBe(true));
    await vi.waitFor(async () => expect((await b.node.members('g')).map((m) => m.id).sort()).toEqual(['a1', 'a2', 'b1']));
    const sent = await a.node.broadcast('a1', 'g', 'after');
    await vi.waitFor(() => expect(b.delivery.eventsOf('b1', 'message').map((m) => m.offset)).toEqual([sent.offset]));
    expect(b.delivery.log.filter((d) => d.event.ev !== 'message')).toEqual([]);
    expect(a.delivery.log.filter((d) => d.event.ev !== 'message')).toEqual([]);
  });
});
