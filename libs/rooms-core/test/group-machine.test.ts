import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { GroupMachine, UNWATCH_DELAY_MS, visibleState } from '../src/index.js';
import type { GroupMachineInput } from '../src/index.js';

const GRACE = 1000;

function startGroup(overrides: Partial<GroupMachineInput> = {}) {
  const listener = { onGraceExpired: vi.fn(), onTick: vi.fn(), onReleased: vi.fn() };
  const input: GroupMachineInput = { id: 'g', static: false, graceMs: GRACE, size: 0, everActive: false, tickMs: 0, listener, ...overrides };
  const actor = createActor(GroupMachine, { input }).start();
  return { actor, listener, state: () => actor.getSnapshot().value };
}

describe('GroupMachine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes from created to active on the first member', () => {
    const { actor, state } = startGroup();
    expect(state()).toBe('created');
    actor.send({ type: 'SIZE', size: 1 });
    expect(state()).toBe('active');
    actor.stop();
  });

  it('starts active when the snapshot has members', () => {
    const { actor, state } = startGroup({ size: 2, everActive: true });
    expect(state()).toBe('active');
    actor.stop();
  });

  it('reports the expiry of a created group once, exactly when its grace ends', async () => {
    const { actor, listener, state } = startGroup();
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    expect(listener.onGraceExpired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    expect(listener.onGraceExpired).toHaveBeenCalledWith('g');
    // The actor waits for the node's discard; it reports nothing more by itself.
    await vi.advanceTimersByTimeAsync(10 * GRACE);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    expect(state()).toBe('created');
    actor.stop();
  });

  it('does not expire a created group that got a member', async () => {
    const { actor, listener, state } = startGroup();
    await vi.advanceTimersByTimeAsync(GRACE / 2);
    actor.send({ type: 'SIZE', size: 1 });
    await vi.advanceTimersByTimeAsync(10 * GRACE);
    expect(listener.onGraceExpired).not.toHaveBeenCalled();
    expect(state()).toBe('active');
    actor.stop();
  });

  it('goes from active to empty-grace when the last member leaves', () => {
    const { actor, state } = startGroup({ size: 2, everActive: true });
    actor.send({ type: 'SIZE', size: 1 });
    expect(state()).toBe('active');
    actor.send({ type: 'SIZE', size: 0 });
    expect(state()).toBe('empty-grace');
    actor.stop();
  });

  it('returns from empty-grace to active on a join and cancels the grace timer', async () => {
    const { actor, listener, state } = startGroup({ size: 1, everActive: true });
    actor.send({ type: 'SIZE', size: 0 });
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    actor.send({ type: 'SIZE', size: 1 });
    expect(state()).toBe('active');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * GRACE);
    expect(listener.onGraceExpired).not.toHaveBeenCalled();
    actor.stop();
  });

  it('reports the expiry of an empty-grace group once, exactly when its grace ends', async () => {
    const { actor, listener, state } = startGroup({ size: 1, everActive: true });
    await vi.advanceTimersByTimeAsync(5 * GRACE);
    actor.send({ type: 'SIZE', size: 0 });
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    expect(listener.onGraceExpired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    expect(listener.onGraceExpired).toHaveBeenCalledWith('g');
    await vi.advanceTimersByTimeAsync(10 * GRACE);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    expect(state()).toBe('empty-grace');
    actor.stop();
  });

  it('restarts a whole grace on RETRY after an expiry (empty-grace)', async () => {
    const { actor, listener } = startGroup({ size: 0, everActive: true });
    await vi.advanceTimersByTimeAsync(GRACE);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    actor.send({ type: 'RETRY' });
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(2);
    actor.stop();
  });

  it('restarts a whole grace on RETRY in created, also before the first expiry', async () => {
    const { actor, listener, state } = startGroup();
    await vi.advanceTimersByTimeAsync(GRACE / 2);
    actor.send({ type: 'RETRY' });
    expect(state()).toBe('created');
    await vi.advanceTimersByTimeAsync(GRACE - 1);
    expect(listener.onGraceExpired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    actor.stop();
  });

  it('starts a static group active, lets it go to empty-grace and never expires it', async () => {
    const { actor, listener, state } = startGroup({ static: true });
    expect(state()).toBe('active');
    actor.send({ type: 'SIZE', size: 1 });
    actor.send({ type: 'SIZE', size: 0 });
    expect(state()).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(100 * GRACE);
    expect(listener.onGraceExpired).not.toHaveBeenCalled();
    expect(state()).toBe('empty-grace');
    actor.stop();
  });

  it('ends the actor on DISCARDED: final state, status done, no timer left', async () => {
    const { actor, listener, state } = startGroup({ size: 0, everActive: true, tickMs: 100 });
    actor.send({ type: 'DISCARDED' });
    expect(state()).toBe('discarded');
    expect(actor.getSnapshot().status).toBe('done');
    expect(visibleState(state())).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * GRACE);
    expect(listener.onGraceExpired).not.toHaveBeenCalled();
    expect(listener.onTick).not.toHaveBeenCalled();
  });

  it('fires the tick every N ms and stops it with the actor', async () => {
    const { actor, listener } = startGroup({ size: 1, everActive: true, tickMs: 100 });
    await vi.advanceTimersByTimeAsync(99);
    expect(listener.onTick).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.onTick).toHaveBeenCalledTimes(1);
    expect(listener.onTick).toHaveBeenCalledWith('g');
    await vi.advanceTimersByTimeAsync(200);
    expect(listener.onTick).toHaveBeenCalledTimes(3);
    actor.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(listener.onTick).toHaveBeenCalledTimes(3);
  });

  it('starts in empty-grace when the group had members and has none now', async () => {
    const { actor, listener, state } = startGroup({ size: 0, everActive: true });
    expect(state()).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(GRACE);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    actor.stop();
  });

  it('maps snapshot values to client-visible states', () => {
    expect(visibleState('created')).toBe('created');
    expect(visibleState('active')).toBe('active');
    expect(visibleState('unwatching')).toBe('active');
    expect(visibleState('empty-grace')).toBe('empty-grace');
    expect(visibleState('starting')).toBeNull();
    expect(visibleState('released')).toBeNull();
    expect(visibleState('discarded')).toBeNull();
  });
});

describe('GroupMachine watch and release', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('releases an active group nothing holds exactly when the unwatch delay ends, once, and ends the actor', async () => {
    const { actor, listener, state } = startGroup({ size: 2, everActive: true });
    actor.send({ type: 'IDLE' });
    expect(state()).toBe('unwatching');
    expect(visibleState(state())).toBe('active');
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS - 1);
    expect(listener.onReleased).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.onReleased).toHaveBeenCalledTimes(1);
    expect(listener.onReleased).toHaveBeenCalledWith('g');
    expect(state()).toBe('released');
    expect(actor.getSnapshot().status).toBe('done');
    expect(vi.getTimerCount()).toBe(0);
    expect(listener.onGraceExpired).not.toHaveBeenCalled();
  });

  it('BUSY during the delay keeps the group watched; the next IDLE waits a whole delay again', async () => {
    const { actor, listener, state } = startGroup({ size: 1, everActive: true });
    actor.send({ type: 'IDLE' });
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS - 1);
    actor.send({ type: 'BUSY' });
    expect(state()).toBe('active');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * UNWATCH_DELAY_MS);
    expect(listener.onReleased).not.toHaveBeenCalled();
    actor.send({ type: 'IDLE' });
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS - 1);
    expect(state()).toBe('unwatching');
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.onReleased).toHaveBeenCalledTimes(1);
  });

  it('a repeated IDLE does not restart the delay', async () => {
    const { actor, listener } = startGroup({ size: 1, everActive: true });
    actor.send({ type: 'IDLE' });
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS / 2);
    actor.send({ type: 'IDLE' });
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS / 2);
    expect(listener.onReleased).toHaveBeenCalledTimes(1);
  });

  it('an unwatching group whose members all left goes to empty-grace: its grace runs here, it is not released', async () => {
    const { actor, listener, state } = startGroup({ size: 1, everActive: true });
    actor.send({ type: 'IDLE' });
    actor.send({ type: 'SIZE', size: 0 });
    expect(state()).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(GRACE);
    expect(listener.onGraceExpired).toHaveBeenCalledTimes(1);
    expect(listener.onReleased).not.toHaveBeenCalled();
    actor.stop();
  });

  it('ignores IDLE in created and empty-grace (an empty group stays watched) and for static and ticking groups', async () => {
    const created = startGroup();
    const emptied = startGroup({ size: 0, everActive: true, graceMs: 100 * GRACE });
    const lobby = startGroup({ static: true, size: 3 });
    const ticking = startGroup({ size: 1, everActive: true, tickMs: 100 * UNWATCH_DELAY_MS });
    for (const group of [created, emptied, lobby, ticking]) group.actor.send({ type: 'IDLE' });
    expect([created.state(), emptied.state(), lobby.state(), ticking.state()]).toEqual(['created', 'empty-grace', 'active', 'active']);
    await vi.advanceTimersByTimeAsync(10 * UNWATCH_DELAY_MS);
    for (const group of [created, emptied, lobby, ticking]) {
      expect(group.listener.onReleased).not.toHaveBeenCalled();
      group.actor.stop();
    }
  });

  it('DISCARDED ends an unwatching group without a release', async () => {
    const { actor, listener, state } = startGroup({ size: 1, everActive: true });
    actor.send({ type: 'IDLE' });
    actor.send({ type: 'DISCARDED' });
    expect(state()).toBe('discarded');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * UNWATCH_DELAY_MS);
    expect(listener.onReleased).not.toHaveBeenCalled();
  });
});
