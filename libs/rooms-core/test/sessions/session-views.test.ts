import { describe, expect, it } from 'vitest';
import { InMemoryBackend, NodeManager, RoomsError } from '../../src/index.js';
import type { Backend } from '../../src/index.js';
import { parseNodeMessage } from '../../src/sessions/node-messages.js';
import { parseNodeFigures, parseSessionView } from '../../src/sessions/session-view.js';
import { RecordingDelivery } from '../support/recording-delivery.js';
import { expectRoomsError, registerAll, useFakeTimerNodes } from '../support/nodes.js';

/** A node B on the shared store whose bus sends fail with `failure` (its liveness view stays the store's). */
async function nodeWithFailingBus(inner: InMemoryBackend, failure: Error): Promise<NodeManager> {
  const backend: Backend = {
    nodeId: inner.nodeId,
    groups: inner.groups,
    sessions: inner.sessions,
    bus: { liveNodes: () => inner.bus.liveNodes(), send: () => Promise.reject(failure) },
    start: (handler) => inner.start(handler),
    close: () => inner.close(),
  };
  const node = new NodeManager({ delivery: new RecordingDelivery(), backend });
  await node.start();
  return node;
}

describe('NodeManager.describeSession (fake timers)', () => {
  const nodes = useFakeTimerNodes();

  it("shows a session held here: its user, groups, and connected until it is suspended", async () => {
    const a = await nodes.start({ id: 'A' });
    await a.node.registerSession('s1', { user: 'ada', tokenHash: 'h1' });
    await a.node.create('s1', { group: 'g1' });
    await a.node.create('s1', { group: 'g2' });
    expect(await a.node.describeSession('s1')).toEqual({ session: 's1', user: 'ada', node: 'A', connected: true, groups: ['g1', 'g2'] });
    await a.node.suspendSession('s1', { g1: 0, g2: 0 });
    expect(await a.node.describeSession('s1')).toMatchObject({ connected: false, groups: ['g1', 'g2'] });
    expect(await a.node.resumeSession('s1', 'h1', 'h2')).not.toBeNull();
    expect(await a.node.describeSession('s1')).toMatchObject({ connected: true });
  });

  it('asks the node that holds the session over the bus; null for a session unknown everywhere', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await a.node.registerSession('s1', { tokenHash: 'h1' });
    await registerAll(b.node, 'b1');
    await b.node.create('b1', { group: 'g' });
    await a.node.join('s1', 'g');
    expect(await b.node.describeSession('s1')).toEqual({ session: 's1', user: null, node: 'A', connected: true, groups: ['g'] });
    expect(await b.node.describeSession('nobody')).toBeNull();
    expect(await b.backend.bus.send('A', { type: 'describe', session: 'nobody' })).toBeNull();
  });

  it('shows a session of a dead node from its record, as not connected', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await a.node.registerSession('s1', { user: 'ada', tokenHash: 'h1' });
    await a.node.create('s1', { group: 'g' });
    nodes.store.killNode('A');
    expect(await b.node.describeSession('s1')).toEqual({ session: 's1', user: 'ada', node: 'A', connected: false, groups: ['g'] });
  });

  it('rejects with the failure of the message when the holder is alive, and UNAVAILABLE while the store is unreachable', async () => {
    const a = await nodes.start({ id: 'A' });
    await a.node.registerSession('s1', { tokenHash: 'h1' });
    const b = await nodeWithFailingBus(new InMemoryBackend('B', nodes.store), new RoomsError('UNAVAILABLE', 'no answer'));
    try {
      expect((await expectRoomsError(b.describeSession('s1'), 'UNAVAILABLE')).message).toBe('no answer');
    } finally {
      await b.close();
    }
    nodes.store.setAvailable(false);
    await expectRoomsError(a.node.describeSession('s1'), 'UNAVAILABLE');
  });
});

describe('NodeManager.nodes (fake timers)', () => {
  const nodes = useFakeTimerNodes();

  it('lists every live node, this one first, with the figures each node gives of itself', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await registerAll(a.node, 'a1', 'a2');
    await a.node.create('a1', { group: 'g1' });
    await a.node.create('a2', { group: 'g2' });
    await registerAll(b.node, 'b1');
    expect(await b.node.nodes()).toEqual([
      { id: 'B', self: true, connections: 1, groups: 0 },
      { id: 'A', self: false, connections: 2, groups: 2 },
    ]);
    nodes.store.killNode('A');
    expect(await b.node.nodes()).toEqual([{ id: 'B', self: true, connections: 1, groups: 0 }]);
  });

  it('shows null figures for a node that cannot be asked', async () => {
    await nodes.start({ id: 'A' });
    const b = await nodeWithFailingBus(new InMemoryBackend('B', nodes.store), new RoomsError('UNAVAILABLE', 'no answer'));
    try {
      expect(await b.nodes()).toEqual([
        { id: 'B', self: true, connections: 0, groups: 0 },
        { id: 'A', self: false, connections: null, groups: null },
      ]);
    } finally {
      await b.close();
    }
  });
});

describe('the admin views over the bus: what a reply must look like', () => {
  it('reads describe and figures messages, and refuses malformed replies', () => {
    expect(parseNodeMessage({ type: 'describe', session: 's' })).toEqual({ type: 'describe', session: 's' });
    expect(parseNodeMessage({ type: 'describe' })).toBeNull();
    expect(parseNodeMessage({ type: 'figures', session: 'ignored' })).toEqual({ type: 'figures' });
    expect(parseSessionView({ session: 's', user: null, node: 'A', connected: true, groups: ['g'] })).toEqual({
      session: 's',
      user: null,
      node: 'A',
      connected: true,
      groups: ['g'],
    });
    expect(parseSessionView({ session: 's', user: 7, node: 'A', connected: true, groups: [] })).toBeNull();
    expect(parseSessionView({ session: 's', user: null, node: 'A', connected: 'yes', groups: [] })).toBeNull();
    expect(parseSessionView(null)).toBeNull();
    expect(parseNodeFigures({ connections: 1, groups: 0 })).toEqual({ connections: 1, groups: 0 });
    expect(parseNodeFigures({ connections: -1, groups: 0 })).toBeNull();
    expect(parseNodeFigures({ connections: 1 })).toBeNull();
  });
});
