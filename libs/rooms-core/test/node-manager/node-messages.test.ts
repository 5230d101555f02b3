import { describe, expect, it } from 'vitest';
import { InMemoryBackend, NodeManager, RoomsError } from '../../src/index.js';
import type { Backend } from '../../src/index.js';
import { RecordingDelivery } from '../support/recording-delivery.js';
import { expectRoomsError, registerAll, useFakeTimerNodes } from '../support/nodes.js';

describe('NodeManager messages between nodes (fake timers)', () => {
  const nodes = useFakeTimerNodes();

  it('refuses a message of an unknown type with BAD_REQUEST, and answers a kick of a session it does not hold', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    const error = await expectRoomsError(b.backend.bus.send('A', { type: 'gossip', session: 's1' }), 'BAD_REQUEST');
    expect(error.message).toBe('unknown node message');
    await expectRoomsError(b.backend.bus.send('A', 'not an object'), 'BAD_REQUEST');
    expect(await b.backend.bus.send('A', { type: 'kick', session: 'nobody' })).toBe(false);
    expect(a.node.ready).toBe(true);
  });

  it('kick of a session whose holder died drops its record, so it cannot be resumed', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await a.node.registerSession('s1', { tokenHash: 'h1' });
    nodes.store.killNode('A');
    expect(await b.backend.sessions.read('s1')).toMatchObject({ node: 'A' });
    expect(await b.node.kick('s1')).toBe(true);
    expect(await b.backend.sessions.read('s1')).toBeNull();
    expect(await b.node.resumeSession('s1', 'h1', 'h2')).toBeNull();
  });

  it('kick answers once the holder ended the session: its members saw left kicked', async () => {
    const ended: Array<[string, string]> = [];
    const a = await nodes.start({ id: 'A', onSessionEnded: (s, r) => ended.push([s, r]) });
    const b = await nodes.start({ id: 'B' });
    await registerAll(b.node, 'b1');
    await a.node.registerSession('s2', { tokenHash: 'h2' });
    await b.node.create('b1', { group: 'g' });
    await a.node.join('s2', 'g');
    expect(await b.node.kick('s2')).toBe(true);
    expect(ended).toEqual([['s2', 'kicked']]);
    expect(b.delivery.eventsOf('b1', 'left')).toMatchObject([{ member: { id: 's2' }, reason: 'kicked' }]);
    expect(a.node.hasSession('s2')).toBe(false);
  });

  it('kick rejects UNAVAILABLE while the store is unreachable', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await a.node.registerSession('s1', { tokenHash: 'h1' });
    nodes.store.setAvailable(false);
    await expectRoomsError(b.node.kick('s1'), 'UNAVAILABLE');
    nodes.store.setAvailable(true);
    expect(await b.backend.sessions.read('s1')).toMatchObject({ node: 'A' });
  });

  it('kick rejects with the failure of the message, and keeps the record, when the holder is alive', async () => {
    const a = await nodes.start({ id: 'A' });
    await a.node.registerSession('s1', { tokenHash: 'h1' });
    const inner = new InMemoryBackend('B', nodes.store);
    const backend: Backend = {
      nodeId: inner.nodeId,
      groups: inner.groups,
      sessions: inner.sessions,
      bus: { liveNodes: () => inner.bus.liveNodes(), send: () => Promise.reject(new RoomsError('UNAVAILABLE', 'no answer')) },
      start: (handler) => inner.start(handler),
      close: () => inner.close(),
    };
    const b = new NodeManager({ delivery: new RecordingDelivery(), backend });
    await b.start();
    try {
      const error = await expectRoomsError(b.kick('s1'), 'UNAVAILABLE');
      expect(error.message).toBe('no answer');
      expect(await inner.sessions.read('s1')).toMatchObject({ node: 'A' });
      expect(a.node.hasSession('s1')).toBe(true);
    } finally {
      await b.close();
    }
  });
});

describe('the in-memory bus', () => {
  const nodes = useFakeTimerNodes();

  it('rejects the pending sends of a node that is killed, and leaves no timer behind', async () => {
    await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    // A kick of a session A holds, answered only once A ended it: A dies first.
    const pending = b.backend.bus.send('A', { type: 'kick', session: 'x' });
    nodes.store.killNode('A');
    await expectRoomsError(pending, 'UNAVAILABLE');
    await expectRoomsError(b.backend.bus.send('A', { type: 'kick', session: 'x' }), 'UNAVAILABLE');
  });
});
