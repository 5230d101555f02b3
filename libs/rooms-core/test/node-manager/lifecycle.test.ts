import { describe, expect, it, vi } from 'vitest';
import { expectRoomsError, registerAll, useFakeTimerNodes } from '../support/nodes.js';

const GRACE = 5000;

describe('NodeManager group lifecycle (fake timers)', () => {
  const nodes = useFakeTimerNodes();

  it('goes created -> active -> empty-grace -> discarded, then the id can be created anew', async () => {
    const { node } = await nodes.start({ emptyGraceMs: GRACE });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g', allowEmpty: true, join: false });
    expect((await node.groupInfo('g')).state).toBe('created');
    await node.join('s2', 'g');
    expect((await node.groupInfo('g')).state).toBe('active');
    await node.leave('s2', 'g');
    expect(await node.groupInfo('g')).toMatchObject({ state: 'empty-grace', size: 0 });
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    expect((await node.groupInfo('g')).state).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(1);
    await expectRoomsError(node.groupInfo('g'), 'GROUP_NOT_FOUND');
    await expectRoomsError(node.members('g'), 'GROUP_NOT_FOUND');
    expect(await node.listGroups()).toEqual([]);
    expect(node.stats().groups).toEqual({ created: 0, active: 0, 'empty-grace': 0 });
    const again = await node.create('s1', { group: 'g' });
    expect(again.members.map((m) => m.id)).toEqual(['s1']);
    expect(await node.groupInfo('g')).toMatchObject({ state: 'active', size: 1 });
  });

  it('discards a created group nobody joined after its grace', async () => {
    const { node } = await nodes.start({ emptyGraceMs: GRACE });
    await node.create(null, { group: 'g', allowEmpty: true, join: false });
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    expect((await node.groupInfo('g')).state).toBe('created');
    await vi.advanceTimersByTimeAsync(1);
    await expectRoomsError(node.groupInfo('g'), 'GROUP_NOT_FOUND');
  });

  it('a join during empty-grace makes the group active again and it is not discarded', async () => {
    const { node } = await nodes.start({ emptyGraceMs: GRACE });
    await registerAll(node, 's1');
    await node.create('s1', { group: 'g' });
    await node.leave('s1', 'g');
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    await node.join('s1', 'g');
    expect((await node.groupInfo('g')).state).toBe('active');
    await vi.advanceTimersByTimeAsync(10 * GRACE);
    expect(await node.groupInfo('g')).toMatchObject({ state: 'active', size: 1 });
  });

  it('a group ttl overrides the node emptyGraceMs', async () => {
    const { node } = await nodes.start({ emptyGraceMs: GRACE });
    await registerAll(node, 's1');
    await node.create('s1', { group: 'short', ttlMs: 100 });
    await node.create('s1', { group: 'long', ttlMs: 3 * GRACE });
    await node.leave('s1', 'short');
    await node.leave('s1', 'long');
    await vi.advanceTimersByTimeAsync(99);
    expect((await node.groupInfo('short')).state).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(1);
    await expectRoomsError(node.groupInfo('short'), 'GROUP_NOT_FOUND');
    await vi.advanceTimersByTimeAsync(GRACE);
    expect((await node.groupInfo('long')).state).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(2 * GRACE);
    await expectRoomsError(node.groupInfo('long'), 'GROUP_NOT_FOUND');
  });

  it('an empty group discarded after its grace sends no discarded event (no member to tell)', async () => {
    const { node, delivery } = await nodes.start({ emptyGraceMs: GRACE });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.leave('s1', 'g');
    delivery.clear();
    await vi.advanceTimersByTimeAsync(GRACE);
    expect(delivery.log).toEqual([]);
  });

  it('runs the tick of a group created with one until the group is discarded', async () => {
    const { node } = await nodes.start({ emptyGraceMs: GRACE });
    await registerAll(node, 's1');
    const onTick = vi.fn();
    await node.create('s1', { group: 'g', tick: { everyMs: 1000, onTick } });
    await vi.advanceTimersByTimeAsync(3000);
    expect(onTick).toHaveBeenCalledTimes(3);
    expect(onTick).toHaveBeenCalledWith('g');
    await node.leave('s1', 'g');
    await vi.advanceTimersByTimeAsync(GRACE);
    await expectRoomsError(node.groupInfo('g'), 'GROUP_NOT_FOUND');
    const ticks = onTick.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(onTick).toHaveBeenCalledTimes(ticks);
  });
});
