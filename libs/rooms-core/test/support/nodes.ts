import { InMemoryBackend, InMemoryStore, NodeManager } from '../../src/index.js';
import type { NodeManagerOptions, RoomsError } from '../../src/index.js';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { RecordingDelivery } from './recording-delivery.js';

/** A started node of a test with the port that records what it delivered. */
export interface TestNode {
  node: NodeManager;
  delivery: RecordingDelivery;
  backend: InMemoryBackend;
}

/** Options of `TestNodes.start`: any `NodeManagerOptions` but the delivery and backend, plus the node id. */
export type TestNodeOptions = Omit<Partial<NodeManagerOptions>, 'backend' | 'nodeId'> & { id?: string };

/**
 * TestNodes: starts nodes on one shared `InMemoryStore` and closes them all in `closeAll` (call it in `afterEach`),
 * so every test leaves nothing running. Create it inside the test (after `vi.useFakeTimers()` when used), because
 * the store captures `Date.now` when it is built.
 */
export class TestNodes {
  readonly store: InMemoryStore;
  private readonly started: NodeManager[] = [];
  private count = 0;

  constructor(store: InMemoryStore = new InMemoryStore()) {
    this.store = store;
  }

  /** Starts a node on the shared store, with a `RecordingDelivery` unless `delivery` is given. */
  async start(options: TestNodeOptions = {}): Promise<TestNode> {
    const { id, ...rest } = options;
    const backend = new InMemoryBackend(id ?? `node-${++this.count}`, this.store);
    const delivery = new RecordingDelivery();
    const node = new NodeManager({ delivery, ...rest, backend });
    this.started.push(node);
    await node.start();
    return { node, delivery, backend };
  }

  /** Closes every node started here. */
  async closeAll(): Promise<void> {
    await Promise.all(this.started.splice(0).map((node) => node.close()));
  }
}

/** Registers each session on `node`. */
export async function registerAll(node: NodeManager, ...sessions: string[]): Promise<void> {
  for (const session of sessions) await node.registerSession(session);
}

/** Awaits `promise` expecting a rejection with a `RoomsError` of `code`; returns the error for further checks. */
export async function expectRoomsError(promise: Promise<unknown>, code: RoomsError['code']): Promise<RoomsError> {
  const error: unknown = await promise.then(
    () => new Error(`expected ${code}, but the operation succeeded`),
    (reason: unknown) => reason,
  );
  expect(error).toMatchObject({ name: 'RoomsError', code });
  return error as RoomsError;
}

/**
 * Registers, in the calling `describe`, fake timers and a fresh `TestNodes` for every test, and after each test
 * closes the nodes and checks that no timer is left. Returns a view that always reaches the current test's nodes.
 */
export function useFakeTimerNodes(): TestNodes {
  let current: TestNodes | null = null;
  beforeEach(() => {
    vi.useFakeTimers();
    current = new TestNodes();
  });
  afterEach(async () => {
    await current?.closeAll();
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });
  return new Proxy({} as TestNodes, {
    get: (_target, key) => {
      if (!current) throw new Error('useFakeTimerNodes: used outside a test');
      const value: unknown = Reflect.get(current, key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}
