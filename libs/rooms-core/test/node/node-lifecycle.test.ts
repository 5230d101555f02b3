import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryBackend, InMemoryStore, NodeManager } from '../../src/index.js';
import type { Backend, BackendHandler } from '../../src/index.js';
import { NodeLifecycle } from '../../src/node/node-lifecycle.js';
import { RecordingDelivery } from '../support/recording-delivery.js';
import { expectRoomsError } from '../support/nodes.js';

describe('NodeLifecycle', () => {
  it('goes new -> starting -> started -> closing -> closed, open until the close', () => {
    const lifecycle = new NodeLifecycle();
    expect(lifecycle.value).toEqual({ run: 'new', intake: 'accepting', store: 'reachable' });
    expect(lifecycle.isOpen).toBe(true);
    expect(lifecycle.ready).toBe(false);
    lifecycle.begin();
    expect(lifecycle.value.run).toBe('starting');
    expect(lifecycle.ready).toBe(false);
    expect(lifecycle.started()).toBe(true);
    expect(lifecycle.ready).toBe(true);
    expect(lifecycle.beginClose()).toBe(true);
    expect(lifecycle.value.run).toBe('closing');
    expect(lifecycle.isOpen).toBe(false);
    expect(lifecycle.ready).toBe(false);
    expect(() => lifecycle.assertOpen()).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
    expect(lifecycle.beginClose()).toBe(false);
    lifecycle.closed();
    expect(lifecycle.value.run).toBe('closed');
  });

  it('starts once: a second start, or a start after a close, is refused with INTERNAL', () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.begin();
    expect(() => lifecycle.begin()).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const closedFirst = new NodeLifecycle();
    closedFirst.beginClose();
    expect(() => closedFirst.begin()).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });

  it('a start that finishes after the close does not revive the node', () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.begin();
    lifecycle.beginClose();
    expect(lifecycle.started()).toBe(false);
    expect(lifecycle.value.run).toBe('closing');
    expect(lifecycle.ready).toBe(false);
  });

  it('drains for good, also when drained before the start, and is not ready while draining', () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.drain();
    expect(lifecycle.isDraining).toBe(true);
    lifecycle.begin();
    lifecycle.started();
    expect(lifecycle.value).toEqual({ run: 'started', intake: 'draining', store: 'reachable' });
    expect(lifecycle.ready).toBe(false);
    expect(lifecycle.isOpen).toBe(true);
  });

  it('follows the store reachability the backend reports; ready only while reachable and re-asserted', () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.begin();
    lifecycle.started();
    lifecycle.store(false);
    expect(lifecycle.storeReachable).toBe(false);
    expect(lifecycle.storeSettled).toBe(false);
    expect(lifecycle.ready).toBe(false);
    lifecycle.store(false);
    expect(lifecycle.value.store).toBe('unreachable');
    lifecycle.reasserted();
    expect(lifecycle.value.store).toBe('unreachable');
    lifecycle.store(true);
    expect(lifecycle.value.store).toBe('reasserting');
    expect(lifecycle.storeReachable).toBe(true);
    expect(lifecycle.storeSettled).toBe(false);
    expect(lifecycle.ready).toBe(false);
    lifecycle.reasserted();
    expect(lifecycle.storeSettled).toBe(true);
    expect(lifecycle.ready).toBe(true);
  });

  it('is not settled while it re-asserts after being taken for dead, nor after a loss during the re-assert', async () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.begin();
    lifecycle.started();
    const settled = vi.fn();
    lifecycle.reconciling();
    void lifecycle.whenStoreSettled().then(settled);
    expect(lifecycle.value.store).toBe('reasserting');
    expect(lifecycle.ready).toBe(false);
    lifecycle.store(false);
    lifecycle.store(true);
    await Promise.resolve();
    expect(settled).not.toHaveBeenCalled();
    lifecycle.reasserted();
    await Promise.resolve();
    expect(settled).toHaveBeenCalledOnce();
    expect(lifecycle.ready).toBe(true);
    await expect(lifecycle.whenStoreSettled()).resolves.toBeUndefined();
  });

  it('releases the waits for a settled store when the node closes', async () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.begin();
    lifecycle.store(false);
    const waiting = lifecycle.whenStoreSettled();
    lifecycle.beginClose();
    await expect(waiting).resolves.toBeUndefined();
  });
});

describe('NodeManager start and close (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a close while the backend starts: start rejects UNAVAILABLE, the backend ends closed, no static group or timer is left', async () => {
    const store = new InMemoryStore();
    const inner = new InMemoryBackend('A', store);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: Backend = {
      nodeId: inner.nodeId,
      groups: inner.groups,
      sessions: inner.sessions,
      bus: inner.bus,
      start: async (handler: BackendHandler) => {
        await gate;
        await inner.start(handler);
      },
      close: () => inner.close(),
    };
    const node = new NodeManager({ delivery: new RecordingDelivery(), backend: slow, staticGroups: ['lobby'] });
    const starting = node.start();
    await node.close();
    release();
    await expectRoomsError(starting, 'UNAVAILABLE');
    expect(node.ready).toBe(false);
    expect(store.liveNodes()).toEqual([]);
    expect(node.stats().groups).toEqual({ created: 0, active: 0, 'empty-grace': 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drain before start: the node starts, serves, and refuses new groups', async () => {
    const node = new NodeManager({ delivery: new RecordingDelivery() });
    try {
      node.drain();
      await node.start();
      expect(node.isDraining).toBe(true);
      expect(node.ready).toBe(false);
      await node.registerSession('s1');
      await expectRoomsError(node.create('s1', { group: 'g' }), 'NODE_DRAINING');
    } finally {
      await node.close();
    }
    expect(vi.getTimerCount()).toBe(0);
  });
});
