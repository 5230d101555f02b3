import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryBackend, InMemoryStore, NodeManager } from '../../src/index.js';
import { HeldReconnects } from '../../src/index.js';
import { expectRoomsError } from '../support/nodes.js';
import { RecordingDelivery } from '../support/recording-delivery.js';

const started: NodeManager[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((node) => node.close()));
});

async function startNode(backend: InMemoryBackend | HeldReconnects): Promise<{ node: NodeManager; delivery: RecordingDelivery }> {
  const delivery = new RecordingDelivery();
  // A short node TTL: a resync confirms a live node's missing members after it (see ReplicaResync).
  const node = new NodeManager({ delivery, backend, nodeTtlMs: 200 });
  started.push(node);
  await node.start();
  return { node, delivery };
}

/** Polls `read` until it returns what `done` accepts (at most 30 s). */
async function until<T>(read: () => T | Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('re-assert after the store lost its data respects maxMembers (in memory)', () => {
  it('a member that finds the re-created group full stays out, and its node forgets the membership', async () => {
    const store = new InMemoryStore();
    const heldA = new HeldReconnects(new InMemoryBackend('A', store));
    const { node: a } = await startNode(heldA);
    const { node: b } = await startNode(new InMemoryBackend('B', store));
    await a.registerSession('a1');
    await b.registerSession('b1');
    await b.registerSession('b2');
    await a.create('a1', { group: 'g', maxMembers: 2 });
    await b.join('b1', 'g');

    // The store restarts empty; B re-asserts first (A's reconnect is held), then b2 takes the free place.
    store.setAvailable(false);
    store.wipe();
    store.setAvailable(true);
    expect(heldA.heldCount).toBe(1);
    await until(() => b.members('g'), (members) => members.length === 1, "B's re-assert");
    await b.join('b2', 'g');

    heldA.release();
    const members = await until(() => a.members('g'), (list) => list.some((m) => m.id === 'b2'), "A's resync");
    expect(members.map((m) => m.id).sort()).toEqual(['b1', 'b2']);
    expect((await b.members('g')).map((m) => m.id).sort()).toEqual(['b1', 'b2']);
    expect(a.groupsOf('a1').groups).toEqual([]);
    await expectRoomsError(a.broadcast('a1', 'g', 'still here?'), 'NOT_MEMBER');
    // The group goes on for its members.
    expect((await b.broadcast('b1', 'g', 'hello')).recipients).toBe(1);
  });
});
