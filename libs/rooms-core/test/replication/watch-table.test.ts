import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GroupSnapshot, GroupWatch, ReplicaEvent } from '../../src/index.js';
import { WatchTable } from '../../src/index.js';
import { nextMacrotask } from '../../src/replication/watch-table.js';

function message(v: number, offset = v): ReplicaEvent {
  return { type: 'message', group: 'g', v, from: null, data: v, offset, self: false };
}

function snapshot(v: number): GroupSnapshot {
  return { spec: { id: 'g', allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false }, members: [], offset: v, v, everActive: true };
}

/** A table whose deferred flushes run when the test says so. */
function setup() {
  const delivered: number[] = [];
  const recovering: GroupWatch[] = [];
  const discarded: string[] = [];
  const dropped: number[] = [];
  const deferred: Array<() => void> = [];
  const table = new WatchTable(
    {
      deliver: (e) => delivered.push(e.v),
      recover: (w) => recovering.push(w),
      discarded: (w) => discarded.push(w.group),
      dropped: (_w, e) => dropped.push(e.v),
    },
    (fn) => deferred.push(fn),
  );
  const runDeferred = (): void => {
    while (deferred.length > 0) (deferred.shift() as () => void)();
  };
  return { table, delivered, recovering, discarded, dropped, runDeferred, deferred };
}

describe('WatchTable', () => {
  it('queues events while a snapshot is read, drops those it reflects, and delivers the rest on a later turn', () => {
    const { table, delivered, runDeferred, deferred } = setup();
    const { watch, created } = table.ensure('g', 'ch');
    expect(created).toBe(true);
    table.hold(watch);
    for (const v of [3, 4, 5, 6]) table.receive('ch', message(v));
    expect(delivered).toEqual([]);
    table.release(watch, snapshot(4));
    expect(delivered).toEqual([]);
    expect(deferred).toHaveLength(1);
    table.receive('ch', message(7));
    runDeferred();
    expect(delivered).toEqual([5, 6, 7]);
    table.receive('ch', message(8));
    table.receive('ch', message(8));
    table.receive('ch', message(2));
    expect(delivered).toEqual([5, 6, 7, 8]);
  });

  it('ignores events of channels nobody watches and events naming another group', () => {
    const { table, delivered } = setup();
    const { watch } = table.ensure('g', 'ch');
    table.hold(watch);
    table.release(watch, snapshot(0));
    table.receive('other', message(1));
    table.receive('ch', { ...message(1), group: 'h' });
    expect(delivered).toEqual([]);
  });

  it('holds the group and asks for a recovery on a gap; the recovered events and the queue follow in order', () => {
    const { table, delivered, recovering, runDeferred } = setup();
    const { watch } = table.ensure('g', 'ch');
    table.hold(watch);
    table.release(watch, snapshot(1));
    table.receive('ch', message(2));
    table.receive('ch', message(4));
    table.receive('ch', message(5));
    expect(delivered).toEqual([2]);
    expect(recovering).toEqual([watch]);
    expect(watch.queue.map((e) => e.v)).toEqual([4, 5]);
    table.deliverRecovered(watch, [message(3)]);
    table.release(watch, snapshot(4));
    runDeferred();
    expect(delivered).toEqual([2, 3, 5]);
  });

  it('drops an event the snapshot read after it does not reflect, once, and keeps later ones', () => {
    const { table, delivered, recovering, dropped, runDeferred } = setup();
    const { watch } = table.ensure('g', 'ch');
    table.hold(watch);
    table.release(watch, snapshot(1));
    // A forged (or lost-in-failover) event far ahead: a gap, so a recovery starts.
    table.receive('ch', message(50));
    expect(recovering).toEqual([watch]);
    expect(watch.recoveries).toBe(1);
    // While the snapshot is read, a real change (v2) and one more after it (v3) arrive.
    const receivedBefore = watch.queue.length;
    table.receive('ch', message(2));
    table.receive('ch', message(3));
    // The store is at v2: v50 arrived before the read and is not reflected: dropped, not queued again.
    table.recovered(watch, snapshot(2), [message(2)], receivedBefore);
    expect(dropped).toEqual([50]);
    runDeferred();
    expect(delivered).toEqual([2, 3]);
    expect(recovering).toEqual([watch]);
    expect(watch.holds).toBe(0);
    expect(watch.queue).toEqual([]);
    // An event in order resets the count of recoveries in a row.
    expect(watch.recoveries).toBe(0);
  });

  it('keeps an event above the snapshot that arrived after the read began, and recovers it again', () => {
    const { table, delivered, recovering, dropped, runDeferred } = setup();
    const { watch } = table.ensure('g', 'ch');
    table.hold(watch);
    table.release(watch, snapshot(1));
    table.receive('ch', message(3));
    const receivedBefore = watch.queue.length;
    table.receive('ch', message(5));
    table.recovered(watch, snapshot(3), [message(2), message(3)], receivedBefore);
    expect(dropped).toEqual([]);
    runDeferred();
    expect(delivered).toEqual([2, 3]);
    // v5 may be a real change published after the read (v4 lost): it starts the next recovery, the second in a row.
    expect(recovering).toEqual([watch, watch]);
    expect(watch.recoveries).toBe(2);
  });

  it('turns the watch stale and releases it when a recovery failed', () => {
    const { table, delivered, runDeferred } = setup();
    const { watch } = table.ensure('g', 'ch');
    table.hold(watch);
    table.release(watch, snapshot(1));
    table.receive('ch', message(3));
    table.receive('ch', message(4));
    table.recovered(watch, null, null, 2);
    expect(watch.stale).toBe(true);
    expect(watch.holds).toBe(0);
    runDeferred();
    expect(delivered).toEqual([3, 4]);
  });

  it('tolerates a gap while stale (after a reconnect) until the next snapshot', () => {
    const { table, delivered, recovering } = setup();
    const { watch } = table.ensure('g', 'ch');
    table.hold(watch);
    table.release(watch, snapshot(1));
    table.markStale();
    table.receive('ch', message(5));
    expect(delivered).toEqual([5]);
    expect(recovering).toEqual([]);
    table.hold(watch);
    table.release(watch, snapshot(5));
    expect(watch.stale).toBe(false);
    table.receive('ch', message(7));
    expect(recovering).toEqual([watch]);
  });

  it('forgets a group after its `discarded` event', () => {
    const { table, delivered, discarded } = setup();
    const { watch } = table.ensure('g', 'ch');
    table.hold(watch);
    table.release(watch, snapshot(1));
    table.receive('ch', { type: 'discarded', group: 'g', v: 2, reason: 'empty' });
    table.receive('ch', message(3));
    expect(delivered).toEqual([2]);
    expect(discarded).toEqual(['g']);
    expect(table.get('g')).toBeUndefined();
    expect(table.size).toBe(0);
  });
});

describe('nextMacrotask (the default schedule)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('uses the runtime setImmediate when there is one, looked up at each call (fake timers drive it)', async () => {
    vi.useFakeTimers();
    const immediate = vi.spyOn(globalThis, 'setImmediate');
    const ran: string[] = [];
    nextMacrotask(() => ran.push('immediate'));
    expect(immediate).toHaveBeenCalledTimes(1);
    expect(ran).toEqual([]);
    await vi.advanceTimersToNextTimerAsync();
    expect(ran).toEqual(['immediate']);
  });

  it('falls back to a zero-delay timer where the runtime has no setImmediate (a browser)', async () => {
    vi.stubGlobal('setImmediate', undefined);
    const ran = await new Promise<string>((resolve) => nextMacrotask(() => resolve('timer')));
    expect(ran).toBe('timer');
  });
});
