import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InMemoryBackend, NodeManager, RoomsError } from '../../src/index.js';
import type { Backend, GroupLog, InMemoryStore, ReplicaEvent } from '../../src/index.js';
import { HELD_EVENTS_LIMIT } from '../../src/replica/local-group.js';
import { RESYNC_RETRY_MS } from '../../src/replica/replica-resync.js';
import { RecordingDelivery } from '../support/recording-delivery.js';
import { registerAll, TestNodes } from '../support/nodes.js';

// Issue 13, item 1 at the kernel level: a live member sees every offset once, in order, +1 each, also when its node
// lost messages on the way and reads them back while later ones keep coming.

/** Calls wait on it while it is shut; `open` lets them (and later ones) through. */
class Gate {
  private waiting: Array<() => void> = [];
  shut = false;

  pass(): Promise<void> {
    return this.shut ? new Promise((resolve) => this.waiting.push(resolve)) : Promise.resolve();
  }

  get pending(): number {
    return this.waiting.length;
  }

  open(): void {
    this.shut = false;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/** What a controlled node's store does besides the real memory store: loses events, holds or fails history reads. */
interface Faults {
  lose: (event: ReplicaEvent) => boolean;
  history: Gate;
  /** History reads that fail (UNAVAILABLE) before they pass. */
  failHistory: number;
}

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

/** The memory backend of one node on the shared store, with `faults` on its events and history reads. */
function controlledBackend(id: string, store: InMemoryStore, faults: Faults): Backend {
  const inner = new InMemoryBackend(id, store);
  const history: GroupLog['history'] = async (group, since) => {
    await faults.history.pass();
    if (faults.failHistory > 0) {
      faults.failHistory--;
      throw new RoomsError('UNAVAILABLE', 'history read failed (injected)');
    }
    return inner.groups.history(group, since);
  };
  const groups = new Proxy(inner.groups, {
    get: (target, key) => {
      if (key === 'history') return history;
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    nodeId: id,
    groups,
    sessions: inner.sessions,
    bus: inner.bus,
    start: (handler) => inner.start({ ...handler, onEvent: (event) => (faults.lose(event) ? undefined : handler.onEvent(event)) }),
    close: () => inner.close(),
  };
}

/** Node A (sender, creator of `g`) and a controlled node B (reader, in `g`). */
async function senderAndReader(partial: Partial<Faults>): Promise<{ a: NodeManager; b: NodeManager; read: () => number[]; faults: Faults }> {
  const faults: Faults = { lose: () => false, history: new Gate(), failHistory: 0, ...partial };
  const { node: a } = await nodes.start({ id: 'A' });
  const delivery = new RecordingDelivery();
  const b = new NodeManager({ delivery, backend: controlledBackend('B', nodes.store, faults) });
  extra.push(b);
  await b.start();
  await registerAll(a, 'sender');
  await registerAll(b, 'reader');
  await a.create('sender', { group: 'g' });
  await b.join('reader', 'g');
  return { a, b, faults, read: () => delivery.eventsOf('reader', 'message').map((m) => m.offset) };
}

async function send(a: NodeManager, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await a.broadcast('sender', 'g', i);
}

const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('messages a node lost on the way', () => {
  it('a message that skips offsets is held until the missed ones were read: the member sees 1, 2, 3', async () => {
    const { a, read } = await senderAndReader({ lose: (e) => e.type === 'message' && e.offset === 2 });
    await send(a, 3);
    await vi.waitFor(() => expect(read()).toEqual([1, 2, 3]));
  });

  it('live messages that arrive while the missed ones are read wait behind them (the resync after a reconnect)', async () => {
    const { a, b, faults, read } = await senderAndReader({ lose: (e) => e.type === 'message' && (e.offset === 2 || e.offset === 3) });
    await send(a, 3);
    expect(read()).toEqual([1]);
    faults.lose = () => false;
    faults.history.shut = true;
    nodes.store.setAvailable(false);
    nodes.store.setAvailable(true);
    // B's reconcile resyncs g and waits on the history read; A serves again meanwhile.
    await vi.waitFor(() => expect(faults.history.pending).toBe(1));
    await vi.waitFor(() => expect(a.available).toBe(true));
    await send(a, 2);
    expect(read()).toEqual([1]);
    faults.history.open();
    await vi.waitFor(() => expect(read()).toEqual(upTo(5)));
    await send(a, 1);
    expect(read()).toEqual(upTo(6));
    expect(b.ready).toBe(true);
  });

  it('a failed read of the missed messages is tried again while the later ones stay held', async () => {
    const { a, faults, read } = await senderAndReader({ lose: (e) => e.type === 'message' && e.offset === 2, failHistory: 1 });
    await send(a, 4);
    await vi.advanceTimersByTimeAsync(0);
    expect(read()).toEqual([1]);
    await vi.advanceTimersByTimeAsync(RESYNC_RETRY_MS);
    expect(faults.failHistory).toBe(0);
    await vi.waitFor(() => expect(read()).toEqual(upTo(4)));
  });

  it(`holds at most ${HELD_EVENTS_LIMIT} events behind a read; one more delivers them without the missed one`, async () => {
    const { a, faults, read } = await senderAndReader({ lose: (e) => e.type === 'message' && e.offset === 2 });
    faults.history.shut = true;
    // Offset 3 starts the hold; with it, HELD_EVENTS_LIMIT events are held (3 … HELD_EVENTS_LIMIT + 2).
    await send(a, HELD_EVENTS_LIMIT + 2);
    expect(faults.history.pending).toBe(1);
    expect(read()).toEqual([1]);
    await send(a, 1);
    const last = HELD_EVENTS_LIMIT + 3;
    expect(read()).toEqual([1, ...upTo(last).slice(2)]);
    faults.history.open();
    await vi.advanceTimersByTimeAsync(0);
    await send(a, 1);
    expect(read().slice(-2)).toEqual([last, last + 1]);
    expect(read()).not.toContain(2);
  }, 60_000);
});
