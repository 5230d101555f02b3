import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor } from 'xstate';
import { InMemoryBackend, NodeManager, RoomsError } from '../../src/index.js';
import type { Backend, GroupLog } from '../../src/index.js';
import { REASSERT_RETRY_MS, ReconcileMachine } from '../../src/reconcile/reconcile-machine.js';
import { RecordingDelivery } from '../support/recording-delivery.js';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

// Issue 13, item 2 at the kernel level: after the store came back (empty), a node answers UNAVAILABLE (temporary),
// never GROUP_NOT_FOUND for a group it has, and is not ready, until it re-asserted its groups and members.

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

/** A controlled promise: the test settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('a node while the store that came back empty is being re-asserted', () => {
  it('is not ready, answers UNAVAILABLE (temporary) for a broadcast to its live group, then serves with offsets going on', async () => {
    const { node: a, delivery } = await nodes.start({ id: 'A' });
    await registerAll(a, 's1', 's2');
    await a.create('s1', { group: 'g' });
    await a.join('s2', 'g');
    await a.broadcast('s1', 'g', 'one');
    nodes.store.setAvailable(false);
    nodes.store.wipe();
    nodes.store.setAvailable(true);
    expect(a.ready).toBe(false);
    expect(a.available).toBe(false);
    const refused = await expectRoomsError(a.broadcast('s1', 'g', 'early'), 'UNAVAILABLE');
    expect(refused.temporary).toBe(true);
    await expectRoomsError(a.join('s2', 'g'), 'UNAVAILABLE');
    await vi.waitFor(() => expect(a.ready).toBe(true));
    expect(await a.broadcast('s1', 'g', 'two')).toEqual({ recipients: 1, offset: 2 });
    expect(delivery.eventsOf('s2', 'message').map((m) => [m.offset, m.data])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
  });

  it('refuses a resume with UNAVAILABLE until its record is back, then resumes it', async () => {
    const { node: a } = await nodes.start({ id: 'A' });
    await a.registerSession('s1', { tokenHash: 'h1' });
    await a.create('s1', { group: 'g' });
    await a.suspendSession('s1', { g: 0 });
    nodes.store.setAvailable(false);
    nodes.store.wipe();
    nodes.store.setAvailable(true);
    await expectRoomsError(a.resumeSession('s1', 'h1', 'h2'), 'UNAVAILABLE');
    await vi.waitFor(() => expect(a.available).toBe(true));
    const resumed = await a.resumeSession('s1', 'h1', 'h2');
    expect(resumed?.groups.map((g) => g.group)).toEqual(['g']);
  });

  it('tries a failed re-assert again after REASSERT_RETRY_MS, and is ready only once it went through', async () => {
    let failures = 1;
    const inner = new InMemoryBackend('A', nodes.store);
    const reassert: GroupLog['reassert'] = (groups) => (failures-- > 0 ? Promise.reject(new RoomsError('UNAVAILABLE', 'injected')) : inner.groups.reassert(groups));
    const groups = new Proxy(inner.groups, {
      get: (target, key) => {
        if (key === 'reassert') return reassert;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const backend: Backend = { nodeId: 'A', groups, sessions: inner.sessions, bus: inner.bus, start: (h) => inner.start(h), close: () => inner.close() };
    const a = new NodeManager({ delivery: new RecordingDelivery(), backend });
    extra.push(a);
    await a.start();
    await registerAll(a, 's1');
    await a.create('s1', { group: 'g' });
    nodes.store.setAvailable(false);
    nodes.store.wipe();
    nodes.store.setAvailable(true);
    await vi.advanceTimersByTimeAsync(REASSERT_RETRY_MS - 1);
    expect(failures).toBe(0);
    expect(a.ready).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(() => expect(a.ready).toBe(true));
    expect((await a.broadcast('s1', 'g', 'x')).offset).toBe(1);
  });
});

describe('ReconcileMachine', () => {
  function start() {
    const runs: Array<ReturnType<typeof deferred>> = [];
    const reasserted = vi.fn();
    const resyncs = vi.fn(async () => undefined);
    const actor = createActor(ReconcileMachine, {
      input: {
        reassert: () => {
          const run = deferred();
          runs.push(run);
          return run.promise;
        },
        resyncAll: resyncs,
        reasserted,
        failed: () => undefined,
      },
    }).start();
    return { actor, runs, reasserted, resyncs, state: () => actor.getSnapshot().value };
  }

  it('re-asserts, reports it, then resyncs, and goes idle', async () => {
    const { actor, runs, reasserted, resyncs, state } = start();
    expect(state()).toBe('idle');
    actor.send({ type: 'RECONNECTED' });
    expect(runs).toHaveLength(1);
    expect(reasserted).not.toHaveBeenCalled();
    runs[0]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(reasserted).toHaveBeenCalledOnce();
    expect(resyncs).toHaveBeenCalledOnce();
    expect(state()).toBe('idle');
    actor.stop();
  });

  it('a reconnect during a re-assert runs it once more and reports only the second', async () => {
    const { actor, runs, reasserted, state } = start();
    actor.send({ type: 'RECONNECTED' });
    actor.send({ type: 'RECONNECTED' });
    actor.send({ type: 'RECONNECTED' });
    expect(state()).toEqual({ reasserting: 'stale' });
    runs[0]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toHaveLength(2);
    expect(reasserted).not.toHaveBeenCalled();
    runs[1]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(reasserted).toHaveBeenCalledOnce();
    actor.stop();
  });

  it('a lost store ends the run unreported; a failure waits the retry delay; a close ends everything', async () => {
    const { actor, runs, reasserted, state } = start();
    actor.send({ type: 'RECONNECTED' });
    actor.send({ type: 'LOST' });
    expect(state()).toBe('idle');
    runs[0]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(reasserted).not.toHaveBeenCalled();
    actor.send({ type: 'RECONNECTED' });
    runs[1]?.reject(new Error('refused'));
    await vi.advanceTimersByTimeAsync(0);
    expect(state()).toBe('waiting');
    await vi.advanceTimersByTimeAsync(REASSERT_RETRY_MS);
    expect(runs).toHaveLength(3);
    actor.send({ type: 'CLOSE' });
    expect(actor.getSnapshot().status).toBe('done');
    expect(vi.getTimerCount()).toBe(0);
  });
});
