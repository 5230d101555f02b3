import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryBackend, RecordingHandler } from '../../src/index.js';
import { UNWATCH_DELAY_MS } from '../../src/supervision/group-machine.js';
import { registerAll, useFakeTimerNodes } from '../support/nodes.js';
import type { TestNode } from '../support/nodes.js';

/**
 * A session taken by another node while the bus could not tell its holder (the holder was taken for dead, e.g. it
 * stalled past its liveness). The taker is a bare backend (node C) doing what a kernel's resume does in the store
 * (take the record, rejoin the groups) without the bus's `taken`: A must find out from the store.
 */
describe('a session taken without its holder being told (fake timers)', () => {
  const nodes = useFakeTimerNodes();
  let taker: InMemoryBackend | null = null;
  afterEach(async () => {
    await taker?.close();
    taker = null;
  });

  /** A holds `mover` (token hash h1) in g, B created g with b1; C takes sessions; `ended` records A's `onSessionEnded`. */
  async function moverOnA(): Promise<{ a: TestNode; b: TestNode; c: InMemoryBackend; ended: Array<[string, string]> }> {
    const ended: Array<[string, string]> = [];
    const a = await nodes.start({ id: 'A', onSessionEnded: (session, reason) => ended.push([session, reason]) });
    const b = await nodes.start({ id: 'B' });
    const c = (taker = new InMemoryBackend('C', nodes.store));
    await c.start(new RecordingHandler('C'));
    await registerAll(b.node, 'b1');
    await b.node.create('b1', { group: 'g' });
    await a.node.registerSession('mover', { tokenHash: 'h1' });
    await a.node.join('mover', 'g');
    a.delivery.clear();
    b.delivery.clear();
    return { a, b, c, ended };
  }

  it('the rejoin elsewhere of a member the cleanup had removed ends it here as taken, and its group is released', async () => {
    const { a, b, c, ended } = await moverOnA();
    // The survivors' cleanup while A was taken for dead; A ignores the node-down of its own connected member.
    await c.groups.leave('g', 'mover', 'node-down');
    expect(a.node.hasSession('mover')).toBe(true);
    expect(await c.sessions.take('mover', 'h1', { newTokenHash: 'h2' })).toMatchObject({ previousNode: 'A' });
    await c.groups.rejoin('g', { id: 'mover', node: 'C' });
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toEqual([['mover', 'taken']]);
    expect(a.node.hasSession('mover')).toBe(false);
    await b.node.broadcast('b1', 'g', 'after');
    expect(a.delivery.eventsFor('mover')).toEqual([]);
    expect(b.delivery.eventsOf('b1', 'left').map((e) => e.reason)).toEqual(['node-down']);
    // Nothing of A holds g any more: it stops watching it after the unwatch delay.
    expect(a.node.stats().groups.active).toBe(1);
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS);
    expect(a.node.stats().groups.active).toBe(0);
    expect(await b.node.members('g')).toEqual([
      { id: 'b1', node: 'B' },
      { id: 'mover', node: 'C' },
    ]);
  });

  it('a reconcile finds it: the record held by another node ends the session here as taken, without left', async () => {
    const { a, b, c, ended } = await moverOnA();
    await c.sessions.take('mover', 'h1', { newTokenHash: 'h2' });
    await c.groups.rejoin('g', { id: 'mover', node: 'C' });
    // The rejoin moved the member away from A, but only the store knows that the session moved.
    expect(a.node.hasSession('mover')).toBe(true);
    expect(ended).toEqual([]);
    nodes.store.setAvailable(false);
    nodes.store.setAvailable(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toEqual([['mover', 'taken']]);
    expect(a.node.hasSession('mover')).toBe(false);
    expect(b.delivery.eventsOf('b1', 'left')).toEqual([]);
    expect(await b.node.members('g')).toEqual([
      { id: 'b1', node: 'B' },
      { id: 'mover', node: 'C' },
    ]);
    expect(await c.sessions.read('mover')).toMatchObject({ node: 'C', tokenHash: 'h2' });
  });

  it('a reconcile does not re-assert the member of a session taken meanwhile (the taker lost the group)', async () => {
    const { a, b, c, ended } = await moverOnA();
    await c.groups.leave('g', 'mover', 'node-down');
    await c.sessions.take('mover', 'h1', { newTokenHash: 'h2' });
    // C's resume found g full, say: the member is nowhere in the store now, but A's replica still shows it on A.
    nodes.store.setAvailable(false);
    nodes.store.setAvailable(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toEqual([['mover', 'taken']]);
    expect(await b.node.members('g')).toEqual([{ id: 'b1', node: 'B' }]);
    expect(b.delivery.eventsOf('b1', 'joined')).toEqual([]);
    expect(a.node.hasSession('mover')).toBe(false);
  });

  it('a save refused by the store ends the session here as taken (a suspend after the take)', async () => {
    const { a, b, c, ended } = await moverOnA();
    await c.sessions.take('mover', 'h1', { newTokenHash: 'h2' });
    await a.node.suspendSession('mover', { g: 0 });
    expect(ended).toEqual([['mover', 'taken']]);
    expect(a.node.hasSession('mover')).toBe(false);
    // No resume window runs for it here: nothing ends it with `disconnect` later.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(b.delivery.eventsOf('b1', 'left')).toEqual([]);
    expect(await c.sessions.read('mover')).toMatchObject({ node: 'C', tokenHash: 'h2', expiresAt: null });
  });
});
