import { describe, expect, it, vi } from 'vitest';
import { InMemoryBackend, NodeManager, UNWATCH_DELAY_MS } from '../../src/index.js';
import type { Backend, GroupLog, MemberInfo } from '../../src/index.js';
import { RecordingDelivery } from '../support/recording-delivery.js';
import { registerAll, useFakeTimerNodes } from '../support/nodes.js';
import type { TestNodes } from '../support/nodes.js';

/** Whether node `id` still gets the events of `group` from the shared store. */
function watching(nodes: TestNodes, id: string, group: string): boolean {
  return nodes.store.nodes.get(id)?.watching.has(group) ?? false;
}

describe('a node stops watching a group that lives on elsewhere (fake timers)', () => {
  const nodes = useFakeTimerNodes();

  /** B holds the group's member; A's only member of it leaves at t=0. */
  async function leftOnA() {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await registerAll(a.node, 'a1');
    await registerAll(b.node, 'b1');
    await b.node.create('b1', { group: 'g' });
    await a.node.join('a1', 'g');
    await a.node.leave('a1', 'g');
    return { a, b };
  }

  it('one unwatch delay after its last local member left: the replica goes and the store stops sending events', async () => {
    const { a } = await leftOnA();
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS - 1);
    expect(a.node.stats().groups.active).toBe(1);
    expect(watching(nodes, 'A', 'g')).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.node.stats().groups.active).toBe(0);
    expect(watching(nodes, 'A', 'g')).toBe(false);
    // Watched again on demand.
    expect((await a.node.members('g')).map((m) => m.id)).toEqual(['b1']);
    await a.node.join('a1', 'g');
    expect(watching(nodes, 'A', 'g')).toBe(true);
  });

  it('a local member back within the delay keeps it watched; leaving again starts a whole delay', async () => {
    const { a, b } = await leftOnA();
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS - 500);
    await a.node.join('a1', 'g');
    await vi.advanceTimersByTimeAsync(100);
    await a.node.leave('a1', 'g');
    await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS - 1);
    expect(watching(nodes, 'A', 'g')).toBe(true);
    await b.node.broadcast('b1', 'g', 'still here');
    await vi.advanceTimersByTimeAsync(1);
    expect(watching(nodes, 'A', 'g')).toBe(false);
    expect(a.node.stats().groups.active).toBe(0);
  });

  it('an operation in flight holds the group: it is released only a whole delay after the operation ended', async () => {
    const b = await nodes.start({ id: 'B' });
    // A's joins of a2 wait for `open` (an operation in flight on the group), then go to the store.
    const inner = new InMemoryBackend('A', nodes.store);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const groups: GroupLog = Object.assign(Object.create(inner.groups) as GroupLog, {
      join: async (group: string, member: MemberInfo) => {
        if (member.id === 'a2') await gate;
        return inner.groups.join(group, member);
      },
    });
    const backend: Backend = { nodeId: 'A', groups, sessions: inner.sessions, bus: inner.bus, start: (h) => inner.start(h), close: () => inner.close() };
    const a = new NodeManager({ delivery: new RecordingDelivery(), backend });
    try {
      await a.start();
      await registerAll(a, 'a1', 'a2');
      await registerAll(b.node, 'b1', 'b2');
      await b.node.create('b1', { group: 'g', maxMembers: 2 });
      await a.join('a1', 'g');
      await a.leave('a1', 'g');
      await b.node.join('b2', 'g');
      await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS - 1);
      const refused = a.join('a2', 'g').catch((error: unknown) => error);
      await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS);
      expect(watching(nodes, 'A', 'g')).toBe(true);
      open();
      // The store refuses it (full): the operation ends without a local member.
      expect(await refused).toMatchObject({ code: 'GROUP_FULL' });
      await vi.advanceTimersByTimeAsync(UNWATCH_DELAY_MS - 1);
      expect(watching(nodes, 'A', 'g')).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      expect(watching(nodes, 'A', 'g')).toBe(false);
      expect(a.stats().groups.active).toBe(0);
    } finally {
      await a.close();
    }
  });

  it('a group whose members elsewhere all left stays watched for its grace here, and is discarded after it', async () => {
    const a = await nodes.start({ id: 'A', emptyGraceMs: 10 * UNWATCH_DELAY_MS });
    const b = await nodes.start({ id: 'B', emptyGraceMs: 10 * UNWATCH_DELAY_MS });
    await registerAll(a.node, 'a1');
    await registerAll(b.node, 'b1');
    await b.node.create('b1', { group: 'g' });
    await a.node.join('a1', 'g');
    await a.node.leave('a1', 'g');
    await b.node.leave('b1', 'g');
    await vi.advanceTimersByTimeAsync(5 * UNWATCH_DELAY_MS);
    expect(watching(nodes, 'A', 'g')).toBe(true);
    expect((await a.node.groupInfo('g')).state).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(5 * UNWATCH_DELAY_MS);
    await expect(a.node.groupInfo('g')).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
  });
});
