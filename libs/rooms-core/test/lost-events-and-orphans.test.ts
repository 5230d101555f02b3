import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryBackend, NodeManager } from '../src/index.js';
import type { BackendHandler, InMemoryStore, ReplicaEvent } from '../src/index.js';
import { RecordingDelivery } from './support/recording-delivery.js';
import { TestNodes, registerAll } from './support/nodes.js';

/** An in-memory backend whose node loses the events `lose` picks on their way (like a dropped pub/sub message). */
class LossyBackend extends InMemoryBackend {
  constructor(
    nodeId: string,
    store: InMemoryStore,
    private readonly lose: (event: ReplicaEvent) => boolean,
  ) {
    super(nodeId, store);
  }

  override start(handler: BackendHandler): Promise<void> {
    return super.start({ ...handler, onEvent: (event) => (this.lose(event) ? undefined : handler.onEvent(event)) });
  }
}

let nodes: TestNodes;
const extra: NodeManager[] = [];
beforeEach(() => {
  vi.useFakeTimers();
  nodes = new TestNodes();
});
afterEach(async () => {
  await Promise.all(extra.splice(0).map((node) => node.close()));
  await nodes.closeAll();
  vi.useRealTimers();
});

async function lossyNode(id: string, lose: (event: ReplicaEvent) => boolean): Promise<{ node: NodeManager; delivery: RecordingDelivery }> {
  const delivery = new RecordingDelivery();
  const node = new NodeManager({ delivery, backend: new LossyBackend(id, nodes.store, lose) });
  extra.push(node);
  await node.start();
  return { node, delivery };
}

describe('lost events', () => {
  it('a replica that missed the latest messages gets them, in order, when it resyncs', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await lossyNode('B', (event) => event.type === 'message' && event.offset >= 2);
    await registerAll(a.node, 'sender');
    await registerAll(b.node, 'reader');
    await a.node.create('sender', { group: 'g' });
    await b.node.join('reader', 'g');
    for (const data of ['one', 'two', 'three']) await a.node.broadcast('sender', 'g', data);
    expect(b.delivery.eventsOf('reader', 'message').map((m) => m.data)).toEqual(['one']);
    nodes.store.setAvailable(false);
    nodes.store.setAvailable(true);
    await vi.waitFor(() => expect(b.delivery.eventsOf('reader', 'message').map((m) => [m.offset, m.data])).toEqual([[1, 'one'], [2, 'two'], [3, 'three']]));
  });

  it('an operation whose own event is lost resyncs after a bounded wait instead of hanging', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await lossyNode('B', (event) => event.type === 'joined' && event.member.id === 'reader');
    await registerAll(a.node, 'owner');
    await registerAll(b.node, 'reader', 'watcher');
    await a.node.create('owner', { group: 'g' });
    await b.node.join('watcher', 'g');
    const joining = b.node.join('reader', 'g');
    await vi.advanceTimersByTimeAsync(5000);
    const joined = await joining;
    expect(joined.already).toBe(false);
    expect(b.node.groupsOf('reader').groups).toEqual(['g']);
    await a.node.broadcast('owner', 'g', 'hello');
    expect(b.delivery.eventsOf('reader', 'message').map((m) => m.data)).toEqual(['hello']);
  });
});

describe('groups left empty by a dead node', () => {
  it('a survivor adopts them and discards them after their grace, so the id can be created anew', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B', emptyGraceMs: 1000 });
    await registerAll(a.node, 'a1');
    await registerAll(b.node, 'b1');
    await a.node.create('a1', { group: 'lonely' });
    nodes.store.killNode('A');
    expect((await b.node.groupInfo('lonely')).state).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(1000);
    await expect(b.node.groupInfo('lonely')).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    expect((await b.node.create('b1', { group: 'lonely' })).group).toBe('lonely');
  });
});

describe('a node wrongly declared dead', () => {
  it('keeps its connected members when it hears they left with node-down (its re-assert puts them back)', async () => {
    let handler: BackendHandler | null = null;
    class Capturing extends InMemoryBackend {
      override start(h: BackendHandler): Promise<void> {
        handler = h;
        return super.start(h);
      }
    }
    const delivery = new RecordingDelivery();
    const node = new NodeManager({ delivery, backend: new Capturing('A', nodes.store) });
    extra.push(node);
    await node.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    const v = nodes.store.groups.snapshot('A', 'g')?.v ?? 0;
    (handler as BackendHandler | null)?.onEvent({ type: 'left', group: 'g', v: v + 1, member: { id: 's2', node: 'A' }, reason: 'node-down', size: 1 });
    expect(node.groupsOf('s2').groups).toEqual(['g']);
    expect(delivery.eventsOf('s1', 'left')).toEqual([]);
  });
});

describe('session records', () => {
  it('a late save from the old holder does not replace a record another node took', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await a.node.registerSession('s1', { tokenHash: 'h1' });
    await a.node.suspendSession('s1', {});
    await b.backend.sessions.take('s1', 'h1', { newTokenHash: 'h2' });
    await a.backend.sessions.save({ id: 's1', node: 'A', tokenHash: 'h1', groups: {}, expiresAt: Date.now() + 1000, windowMs: 1000 });
    expect(await b.backend.sessions.take('s1', 'h1')).toBeNull();
    expect(await b.backend.sessions.take('s1', 'h2')).not.toBeNull();
  });
});
