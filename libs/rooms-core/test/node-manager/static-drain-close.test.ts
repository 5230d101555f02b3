import { describe, expect, it, vi } from 'vitest';
import { expectRoomsError, registerAll, useFakeTimerNodes } from '../support/nodes.js';

const GRACE = 1000;

describe('NodeManager static groups, drain and close', () => {
  const nodes = useFakeTimerNodes();

  it('creates static groups at start, active and empty', async () => {
    const { node } = await nodes.start({ staticGroups: ['lobby', 'help'], emptyGraceMs: GRACE });
    expect((await node.listGroups()).sort()).toEqual(['help', 'lobby']);
    expect(await node.groupInfo('lobby')).toEqual({ group: 'lobby', state: 'active', size: 0, nodes: [], meta: {}, static: true });
  });

  it('never discards a static group, also after it emptied', async () => {
    const { node } = await nodes.start({ staticGroups: ['lobby'], emptyGraceMs: GRACE });
    await registerAll(node, 's1');
    await vi.advanceTimersByTimeAsync(100 * GRACE);
    expect((await node.groupInfo('lobby')).state).toBe('active');
    await node.join('s1', 'lobby');
    await node.leave('s1', 'lobby');
    expect((await node.groupInfo('lobby')).state).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(100 * GRACE);
    expect((await node.groupInfo('lobby')).state).toBe('empty-grace');
  });

  it('refuses to discard a static group with FORBIDDEN', async () => {
    const { node } = await nodes.start({ staticGroups: ['lobby'] });
    await expectRoomsError(node.discard('lobby'), 'FORBIDDEN');
    expect(await node.listGroups()).toEqual(['lobby']);
  });

  it('a second node with the same static group adopts it instead of failing', async () => {
    const a = await nodes.start({ id: 'A', staticGroups: ['lobby'] });
    await registerAll(a.node, 's1');
    await a.node.join('s1', 'lobby');
    const b = await nodes.start({ id: 'B', staticGroups: ['lobby'] });
    expect((await b.node.members('lobby')).map((m) => m.id)).toEqual(['s1']);
  });

  it('while draining refuses create with NODE_DRAINING (temporary) and still serves join', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    node.drain();
    expect(node.isDraining).toBe(true);
    expect(node.ready).toBe(false);
    const error = await expectRoomsError(node.create('s1', { group: 'h' }), 'NODE_DRAINING');
    expect(error.temporary).toBe(true);
    expect((await node.join('s2', 'g')).already).toBe(false);
    expect((await node.broadcast('s2', 'g', 'x')).recipients).toBe(1);
  });

  it('close leaves no timer running and operations afterwards reject', async () => {
    const { node } = await nodes.start({ staticGroups: ['lobby'], emptyGraceMs: GRACE, resumeWindowMs: 10_000 });
    await node.registerSession('s1', { tokenHash: 'h' });
    await registerAll(node, 's2');
    await node.create('s1', { group: 'ticking', tick: { everyMs: 100, onTick: () => undefined } });
    await node.create('s2', { group: 'emptying' });
    await node.leave('s2', 'emptying');
    await node.create(null, { group: 'fresh', allowEmpty: true, join: false });
    await node.suspendSession('s1', { ticking: 0 });
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await node.close();
    expect(vi.getTimerCount()).toBe(0);
    await node.close();
    expect(node.ready).toBe(false);
    await expectRoomsError(node.create('s2', { group: 'x' }), 'UNAVAILABLE');
    await expectRoomsError(node.join('s2', 'lobby'), 'UNAVAILABLE');
    await expectRoomsError(node.members('lobby'), 'UNAVAILABLE');
    await expectRoomsError(node.registerSession('s3'), 'UNAVAILABLE');
    await expectRoomsError(node.broadcast('s2', 'lobby', 1), 'UNAVAILABLE');
  });

  it('start runs once', async () => {
    const { node } = await nodes.start();
    await expectRoomsError(node.start(), 'INTERNAL');
  });
});
