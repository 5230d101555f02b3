import { afterEach, describe, expect, it, vi } from 'vitest';
import { GapRecoverer, silentLogger, WatchTable } from '../../src/index.js';
import type { GroupSnapshot, GroupWatch, RecoverySource, ReplicaEvent, StoredMessage } from '../../src/index.js';

const spec = { id: 'g', allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };

function message(v: number, offset: number): ReplicaEvent {
  return { type: 'message', group: 'g', v, from: 's', data: offset, offset, self: false };
}

/** A table watching `g` at v1, a recoverer over `source`, and what reached the kernel. */
function setup(source: RecoverySource | null) {
  const delivered: ReplicaEvent[] = [];
  const reads: string[] = [];
  let recoverer: GapRecoverer | null = null;
  const table = new WatchTable(
    {
      deliver: (e) => delivered.push(e),
      recover: (w) => void recoverer?.recover(w),
      discarded: () => undefined,
      dropped: () => undefined,
    },
    (fn) => fn(),
  );
  const counted: RecoverySource | null = source && {
    read: (group) => {
      reads.push(group);
      return source.read(group);
    },
    messages: (group, since, until) => source.messages(group, since, until),
  };
  recoverer = new GapRecoverer({ table, self: 'me', source: () => counted, logger: silentLogger });
  const { watch } = table.ensure('g', 'ch');
  table.hold(watch);
  table.release(watch, { spec, members: [], offset: 0, v: 1, everActive: true });
  return { table, watch, delivered, reads, recoverer };
}

/** A store at v5: messages 1..3 (v2, v3, v5) and a member that joined at v4. */
const store: RecoverySource = {
  read: async (): Promise<GroupSnapshot> => ({ spec, members: [{ id: 'x', node: 'n2' }], offset: 3, v: 5, everActive: true }),
  messages: async (_group, since, until): Promise<StoredMessage[]> =>
    [1, 2, 3].filter((o) => o > since && o <= until).map((offset) => ({ group: 'g', from: 's', data: offset, offset, self: false })),
};

async function settled(watch: GroupWatch): Promise<void> {
  await vi.waitFor(() => expect(watch.holds).toBe(0));
}

afterEach(() => {
  vi.useRealTimers();
});

describe('GapRecoverer', () => {
  it('fills a gap from the store: the missed messages and members, keeping the event that arrived', async () => {
    const { table, watch, delivered } = setup(store);
    table.receive('ch', message(5, 3));
    await settled(watch);
    expect(delivered.map((e) => [e.type, e.v])).toEqual([
      ['message', 2],
      ['message', 3],
      ['joined', 4],
      ['message', 5],
    ]);
  });

  it('backs off when recoveries of one group follow each other, and close ends the wait at once', async () => {
    vi.useFakeTimers();
    const { table, watch, reads, recoverer } = setup(store);
    watch.recoveries = 2;
    table.receive('ch', message(5, 3));
    expect(watch.recoveries).toBe(3);
    await vi.advanceTimersByTimeAsync(99);
    expect(reads).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads).toEqual(['g']);
    await settled(watch);
    watch.recoveries = 5;
    table.receive('ch', message(7, 4));
    recoverer.close();
    await settled(watch);
    expect(reads).toEqual(['g', 'g']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('without a store to read, releases the watch stale and delivers what arrived', async () => {
    const { table, watch, delivered } = setup(null);
    table.receive('ch', message(5, 3));
    await settled(watch);
    expect(watch.stale).toBe(true);
    expect(delivered.map((e) => e.v)).toEqual([5]);
  });
});
