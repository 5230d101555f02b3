import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryBackend, InMemoryStore, NodeManager } from '../../src/index.js';
import { DEFAULT_NODE_TTL_MS } from '../../src/node/node-manager-options.js';
import type { BackendHandler } from '../../src/index.js';
import { HeldReconnects } from '../../src/index.js';
import { CONFIRMATION_ROUNDS } from '../../src/replica/replica-resync.js';
import { RecordingDelivery } from '../support/recording-delivery.js';

// Issue 13 (chaos run): after Redis restarted empty, every member of nodes that never died got `left` node-down and
// then `rejoined`: the resync that follows a node's re-assert read the group before the other nodes re-asserted
// theirs. A member of a node the liveness still lists as live is kept until a confirmation read a node TTL later;
// that read removes what is still missing (a node that died meanwhile, a member that really left: no ghost).

interface Started {
  node: NodeManager;
  delivery: RecordingDelivery;
}

let store: InMemoryStore;
const started: NodeManager[] = [];

beforeEach(() => {
  // setImmediate stays real: `flush` lets every in-memory step (all microtasks) run without moving the clock.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  store = new InMemoryStore();
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((node) => node.close()));
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

async function startNode(backend: InMemoryBackend | HeldReconnects): Promise<Started> {
  const delivery = new RecordingDelivery();
  const node = new NodeManager({ delivery, backend });
  started.push(node);
  await node.start();
  return { node, delivery };
}

/** Lets every pending in-memory step run (they are microtasks), the clock standing still. */
async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
}

const ids = async (node: NodeManager): Promise<string[]> => (await node.members('g')).map((m) => m.id).sort();
const memberEvents = (delivery: RecordingDelivery): unknown[] => delivery.log.filter((d) => d.event.ev !== 'message').map((d) => d.event);

describe('a resync keeps the members of live nodes until they had a node TTL to re-assert them', () => {
  it('store lost, A re-asserts and resyncs before B does: nobody hears left or rejoined, before or after the confirmation', async () => {
    const a = await startNode(new InMemoryBackend('A', store));
    const heldB = new HeldReconnects(new InMemoryBackend('B', store));
    const b = await startNode(heldB);
    await a.node.registerSession('a1');
    await b.node.registerSession('b1');
    await a.node.create('a1', { group: 'g' });
    await b.node.join('b1', 'g');
    a.delivery.clear();
    b.delivery.clear();

    store.setAvailable(false);
    store.wipe();
    store.setAvailable(true);
    await flush();
    expect(a.node.ready).toBe(true);
    expect(heldB.heldCount).toBe(1);
    // A read g without b1: B is live, so b1 stays.
    expect(await ids(a.node)).toEqual(['a1', 'b1']);
    expect(memberEvents(a.delivery)).toEqual([]);

    heldB.release();
    await flush();
    expect(b.node.ready).toBe(true);
    await vi.advanceTimersByTimeAsync(DEFAULT_NODE_TTL_MS + 1);
    await flush();
    expect(await ids(a.node)).toEqual(['a1', 'b1']);
    expect(await ids(b.node)).toEqual(['a1', 'b1']);
    expect(memberEvents(a.delivery)).toEqual([]);
    expect(memberEvents(b.delivery)).toEqual([]);
  });

  it('a member of a node that is not live (died while the store was away) leaves with node-down at once', async () => {
    const a = await startNode(new InMemoryBackend('A', store));
    const c = await startNode(new InMemoryBackend('C', store));
    await a.node.registerSession('a1');
    await c.node.registerSession('c1');
    await a.node.create('a1', { group: 'g' });
    await c.node.join('c1', 'g');
    a.delivery.clear();

    store.setAvailable(false);
    store.wipe();
    store.killNode('C');
    store.setAvailable(true);
    await flush();
    expect(a.node.ready).toBe(true);
    expect(a.delivery.eventsOf('a1', 'left').map((e) => [e.member.id, e.reason])).toEqual([['c1', 'node-down']]);
    expect(await ids(a.node)).toEqual(['a1']);
  });

  it('store lost, B re-asserts only after two confirmation reads (a loaded machine): nobody hears left or rejoined', async () => {
    const a = await startNode(new InMemoryBackend('A', store));
    const heldB = new HeldReconnects(new InMemoryBackend('B', store));
    const b = await startNode(heldB);
    await a.node.registerSession('a1');
    await b.node.registerSession('b1');
    await a.node.create('a1', { group: 'g' });
    await b.node.join('b1', 'g');
    a.delivery.clear();
    b.delivery.clear();

    store.setAvailable(false);
    store.wipe();
    store.setAvailable(true);
    await flush();
    expect(heldB.heldCount).toBe(1);
    // B stays live but has not re-asserted: A's confirmation reads keep b1.
    for (let round = 1; round <= 2; round++) {
      await vi.advanceTimersByTimeAsync(DEFAULT_NODE_TTL_MS + 1);
      await flush();
      expect(await ids(a.node)).toEqual(['a1', 'b1']);
    }
    heldB.release();
    await flush();
    expect(b.node.ready).toBe(true);
    await vi.advanceTimersByTimeAsync(CONFIRMATION_ROUNDS * (DEFAULT_NODE_TTL_MS + 1));
    await flush();
    expect(await ids(a.node)).toEqual(['a1', 'b1']);
    expect(memberEvents(a.delivery)).toEqual([]);
    expect(memberEvents(b.delivery)).toEqual([]);
  });

  it('a member of a live node that really left while this node was cut off is removed by the last confirmation read: no ghost', async () => {
    const a = await startNode(new InMemoryBackend('A', store));
    const b = await startNode(new InMemoryBackend('B', store));
    await a.node.registerSession('a1');
    await b.node.registerSession('b1');
    await b.node.registerSession('b2');
    await a.node.create('a1', { group: 'g' });
    await b.node.join('b1', 'g');
    await b.node.join('b2', 'g');
    a.delivery.clear();

    // A is cut off: the store's events do not reach it while b2 leaves.
    const attached = store.nodes.get('A');
    if (!attached) throw new Error('A is not attached');
    const handler = attached.handler;
    attached.handler = { ...handler, onEvent: () => undefined } satisfies BackendHandler;
    await b.node.leave('b2', 'g');
    attached.handler = handler;
    handler.onReconnected();
    await flush();
    expect(a.node.ready).toBe(true);
    // B is live: b2 is kept until the confirmation read.
    expect(await ids(a.node)).toEqual(['a1', 'b1', 'b2']);
    expect(a.delivery.eventsOf('a1', 'left')).toEqual([]);

    // Kept while B is live, for every confirmation read but the last.
    for (let round = 1; round < CONFIRMATION_ROUNDS; round++) {
      await vi.advanceTimersByTimeAsync(DEFAULT_NODE_TTL_MS + 1);
      await flush();
      expect(await ids(a.node)).toEqual(['a1', 'b1', 'b2']);
    }
    await vi.advanceTimersByTimeAsync(DEFAULT_NODE_TTL_MS + 1);
    await flush();
    expect(a.delivery.eventsOf('a1', 'left').map((e) => [e.member.id, e.reason])).toEqual([['b2', 'node-down']]);
    expect(await ids(a.node)).toEqual(['a1', 'b1']);
  });
});
