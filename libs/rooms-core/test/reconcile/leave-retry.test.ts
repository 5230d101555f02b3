import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { InMemoryBackend, InMemoryStore, NodeManager, RoomsError } from '../../src/index.js';
import type { Backend, GroupLog } from '../../src/index.js';
import { LEAVE_RETRY_MS, LeaveRetryMachine } from '../../src/reconcile/leave-retry-machine.js';
import { RecordingDelivery } from '../support/recording-delivery.js';
import { registerAll, TestNodes } from '../support/nodes.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A leave-retry actor whose rounds report `stillRefused()` and count themselves. */
function startRetry(stillRefused: () => boolean) {
  const rounds = vi.fn(async () => stillRefused());
  const actor = createActor(LeaveRetryMachine, { input: { retry: rounds } }).start();
  return { actor, rounds, state: () => actor.getSnapshot().value };
}

describe('LeaveRetryMachine', () => {
  it('waits idle, then retries exactly one delay after a refusal, and goes idle when nothing is left', async () => {
    const { actor, rounds, state } = startRetry(() => false);
    expect(state()).toBe('idle');
    await vi.advanceTimersByTimeAsync(10 * LEAVE_RETRY_MS);
    expect(rounds).not.toHaveBeenCalled();
    actor.send({ type: 'QUEUED' });
    expect(state()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(LEAVE_RETRY_MS - 1);
    expect(rounds).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toHaveBeenCalledTimes(1);
    expect(state()).toBe('idle');
    expect(vi.getTimerCount()).toBe(0);
    actor.stop();
  });

  it('retries every delay while leaves are still refused, and one refusal more does not add a round', async () => {
    let refused = 3;
    const { actor, rounds, state } = startRetry(() => --refused > 0);
    actor.send({ type: 'QUEUED' });
    actor.send({ type: 'QUEUED' });
    await vi.advanceTimersByTimeAsync(LEAVE_RETRY_MS);
    expect(rounds).toHaveBeenCalledTimes(1);
    expect(state()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(LEAVE_RETRY_MS);
    expect(rounds).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(LEAVE_RETRY_MS);
    expect(rounds).toHaveBeenCalledTimes(3);
    expect(state()).toBe('idle');
    await vi.advanceTimersByTimeAsync(10 * LEAVE_RETRY_MS);
    expect(rounds).toHaveBeenCalledTimes(3);
    actor.stop();
  });

  it('a round that fails is followed by another one a delay later', async () => {
    let fail = true;
    const rounds = vi.fn(async () => {
      if (fail) {
        fail = false;
        throw new Error('boom');
      }
      return false;
    });
    const actor = createActor(LeaveRetryMachine, { input: { retry: rounds } }).start();
    actor.send({ type: 'QUEUED' });
    await vi.advanceTimersByTimeAsync(2 * LEAVE_RETRY_MS);
    expect(rounds).toHaveBeenCalledTimes(2);
    expect(actor.getSnapshot().value).toBe('idle');
    actor.stop();
  });

  it('CLOSE ends it from any state: no round after it, no timer left', async () => {
    const { actor, rounds, state } = startRetry(() => true);
    actor.send({ type: 'QUEUED' });
    actor.send({ type: 'CLOSE' });
    expect(state()).toBe('closed');
    expect(actor.getSnapshot().status).toBe('done');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * LEAVE_RETRY_MS);
    expect(rounds).not.toHaveBeenCalled();
  });
});

describe('NodeManager leaves the store refused', () => {
  it('are retried every second until the store takes them; then members elsewhere see the left', async () => {
    const store = new InMemoryStore();
    const nodes = new TestNodes(store);
    const b = await nodes.start({ id: 'B' });
    const inner = new InMemoryBackend('A', store);
    let refusals = 2;
    const groups: GroupLog = Object.assign(Object.create(inner.groups) as GroupLog, {
      leave: (group: string, session: string, reason: 'disconnect') => {
        if (refusals-- > 0) return Promise.reject(new RoomsError('UNAVAILABLE', 'command timed out'));
        return inner.groups.leave(group, session, reason);
      },
    });
    const backend: Backend = { nodeId: 'A', groups, sessions: inner.sessions, bus: inner.bus, start: (h) => inner.start(h), close: () => inner.close() };
    const a = new NodeManager({ delivery: new RecordingDelivery(), backend });
    try {
      await a.start();
      await registerAll(b.node, 'b1');
      await registerAll(a, 'a1');
      await b.node.create('b1', { group: 'g' });
      await a.join('a1', 'g');
      await a.unregisterSession('a1');
      const leftOnB = () => b.delivery.eventsOf('b1', 'left').map((event) => [event.member.id, event.reason]);
      expect(leftOnB()).toEqual([]);
      await vi.advanceTimersByTimeAsync(LEAVE_RETRY_MS);
      expect(refusals).toBe(0);
      expect(leftOnB()).toEqual([]);
      await vi.advanceTimersByTimeAsync(LEAVE_RETRY_MS);
      expect(leftOnB()).toEqual([['a1', 'disconnect']]);
      expect((await b.node.members('g')).map((m) => m.id)).toEqual(['b1']);
    } finally {
      await a.close();
      await nodes.closeAll();
    }
    expect(vi.getTimerCount()).toBe(0);
  });
});
