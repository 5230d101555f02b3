import { describe, expect, it } from 'vitest';
import { NodeLifecycle } from '../../src/node/node-lifecycle.js';

describe('NodeLifecycle waiting for the store at start', () => {
  it('starting -> waiting while the backend cannot reach the store, then starting again, settled without a re-assert', () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.begin();
    lifecycle.store(false);
    expect(lifecycle.value).toEqual({ run: 'waiting', intake: 'accepting', store: 'unreachable' });
    expect(lifecycle.waitingForStore).toBe(true);
    expect(lifecycle.isOpen).toBe(true);
    expect(lifecycle.ready).toBe(false);
    expect(lifecycle.storeSettled).toBe(false);
    lifecycle.store(true);
    // Nothing of this node is in the store yet: nothing to re-assert.
    expect(lifecycle.value).toEqual({ run: 'starting', intake: 'accepting', store: 'reachable' });
    expect(lifecycle.storeSettled).toBe(true);
    expect(lifecycle.started()).toBe(true);
    expect(lifecycle.ready).toBe(true);
  });

  it('a close while waiting ends the wait; a later store report does not revive the node', async () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.begin();
    lifecycle.store(false);
    const settled = lifecycle.whenStoreSettled();
    expect(lifecycle.beginClose()).toBe(true);
    await settled;
    lifecycle.store(true);
    expect(lifecycle.value.run).toBe('closing');
    expect(lifecycle.started()).toBe(false);
    lifecycle.closed();
    expect(lifecycle.value.run).toBe('closed');
  });

  it('after the start, a store back from a loss still needs the re-assert', () => {
    const lifecycle = new NodeLifecycle();
    lifecycle.begin();
    lifecycle.store(false);
    lifecycle.store(true);
    lifecycle.started();
    lifecycle.store(false);
    expect(lifecycle.value.run).toBe('started');
    lifecycle.store(true);
    expect(lifecycle.value.store).toBe('reasserting');
    expect(lifecycle.ready).toBe(false);
  });
});
