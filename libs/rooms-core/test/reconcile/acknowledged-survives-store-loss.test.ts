import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendHandler } from '../../src/index.js';
import { registerAll, TestNodes } from '../support/nodes.js';
import type { TestNode } from '../support/nodes.js';

// Issue 13 (chaos run): a broadcast acknowledged to its sender just before the store died lived only in the store;
// the store came back empty, the nodes re-asserted their groups (offsets go on) and every member jumped over it, with
// a gap `join since` could not fill. Acknowledged means delivered to every member: the sender's node keeps what it got
// acknowledged until its replica applied it, and writes it back when it re-asserts after the loss.
//
// The fault is the store dying between its reply to the publish and the publication of the event: the store's
// events of that message are lost on their way to every node (the nodes' handlers drop them), then the store loses
// everything. With real processes that window (inside one Redis event-loop turn) cannot be hit on purpose.

let nodes: TestNodes;
beforeEach(() => {
  nodes = new TestNodes();
});
afterEach(() => nodes.closeAll());

/** A holds the sender s1 (creator of g), B the receiver b1. */
async function senderAndReceiver(): Promise<{ a: TestNode; b: TestNode }> {
  const a = await nodes.start({ id: 'A' });
  const b = await nodes.start({ id: 'B' });
  await registerAll(a.node, 's1');
  await registerAll(b.node, 'b1');
  await a.node.create('s1', { group: 'g' });
  await b.node.join('b1', 'g');
  return { a, b };
}

/** Makes the store lose the `message` events it publishes (to every node) until the returned function is called. */
function loseMessageEvents(): () => void {
  const restore: Array<() => void> = [];
  for (const id of nodes.store.liveNodes()) {
    const attached = nodes.store.nodes.get(id);
    if (!attached) continue;
    const handler = attached.handler;
    const lossy: BackendHandler = { ...handler, onEvent: (event) => (event.type === 'message' ? undefined : handler.onEvent(event)) };
    attached.handler = lossy;
    restore.push(() => (attached.handler = handler));
  }
  return () => restore.forEach((undo) => undo());
}

describe('a broadcast acknowledged just before the store lost everything', () => {
  it('reaches every member, in offset order, once the sender’s node re-asserted; history has it', async () => {
    const { a, b } = await senderAndReceiver();
    const first = await a.node.broadcast('s1', 'g', 'one');
    await vi.waitFor(() => expect(b.delivery.eventsOf('b1', 'message')).toHaveLength(1));

    const heal = loseMessageEvents();
    const lost = await a.node.broadcast('s1', 'g', 'two');
    expect(lost.offset).toBe(first.offset + 1);
    nodes.store.setAvailable(false);
    nodes.store.wipe();
    heal();
    nodes.store.setAvailable(true);
    await vi.waitFor(() => expect(a.node.ready && b.node.ready).toBe(true));

    const after = await a.node.broadcast('s1', 'g', 'three');
    expect(after.offset).toBe(lost.offset + 1);
    await vi.waitFor(() => expect(b.delivery.eventsOf('b1', 'message').at(-1)?.offset).toBe(after.offset));
    expect(b.delivery.eventsOf('b1', 'message').map((m) => [m.offset, m.data])).toEqual([
      [first.offset, 'one'],
      [lost.offset, 'two'],
      [after.offset, 'three'],
    ]);
    // A member that missed it on a live connection finds it with `join since`.
    const replay = await b.node.history('g', first.offset);
    expect(replay.messages.map((m) => [m.offset, m.data])).toEqual([
      [lost.offset, 'two'],
      [after.offset, 'three'],
    ]);
    expect(replay.complete).toBe(true);
  });

  it('a message the replicas applied already is not delivered twice after the restore', async () => {
    const { a, b } = await senderAndReceiver();
    const sent = await a.node.broadcast('s1', 'g', 'one');
    await vi.waitFor(() => expect(b.delivery.eventsOf('b1', 'message')).toHaveLength(1));
    nodes.store.setAvailable(false);
    nodes.store.wipe();
    nodes.store.setAvailable(true);
    await vi.waitFor(() => expect(a.node.ready && b.node.ready).toBe(true));
    const next = await a.node.broadcast('s1', 'g', 'two');
    expect(next.offset).toBe(sent.offset + 1);
    await vi.waitFor(() => expect(b.delivery.eventsOf('b1', 'message').map((m) => m.offset)).toEqual([sent.offset, next.offset]));
  });
});
