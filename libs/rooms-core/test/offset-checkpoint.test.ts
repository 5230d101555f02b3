import { describe, expect, it, vi } from 'vitest';
import { registerAll, useFakeTimerNodes } from './support/nodes.js';

const EVERY = 5000;

describe('offset checkpoints of connected sessions (fake timers, memory backend)', () => {
  const nodes = useFakeTimerNodes();

  /** Node A with s1 (sender) and s2 (resumable receiver) in group g, and node B to resume on. */
  async function setUp(offsetCheckpointMs?: number) {
    const a = await nodes.start({ id: 'A', resumeWindowMs: 30_000, ...(offsetCheckpointMs === undefined ? {} : { offsetCheckpointMs }) });
    const b = await nodes.start({ id: 'B', resumeWindowMs: 30_000 });
    await registerAll(a.node, 's1');
    await a.node.registerSession('s2', { tokenHash: 'h2' });
    await a.node.create('s1', { group: 'g' });
    await a.node.join('s2', 'g');
    return { a, b };
  }

  it("after the interval the store's record of a connected session holds the offsets delivered since it joined", async () => {
    const { a } = await setUp();
    for (let i = 0; i < 5; i++) await a.node.broadcast('s1', 'g', i);
    expect((await a.backend.sessions.read('s2'))?.groups).toEqual({ g: 0 });
    await vi.advanceTimersByTimeAsync(EVERY);
    expect((await a.backend.sessions.read('s2'))?.groups).toEqual({ g: 5 });
    expect((await a.backend.sessions.read('s2'))?.expiresAt).toBeNull();
  });

  it('a session whose offsets did not move is not stored again', async () => {
    const { a } = await setUp();
    await a.node.broadcast('s1', 'g', 'x');
    await vi.advanceTimersByTimeAsync(EVERY);
    const save = vi.spyOn(a.backend.sessions, 'save');
    await vi.advanceTimersByTimeAsync(3 * EVERY);
    expect(save).not.toHaveBeenCalled();
    await a.node.broadcast('s1', 'g', 'y');
    await vi.advanceTimersByTimeAsync(EVERY);
    // s1 has no token hash: not resumable, no record.
    expect(save.mock.calls.map(([record]) => [record.id, record.groups])).toEqual([['s2', { g: 2 }]]);
  });

  it('a resume on another node after the holder died replays only what came after the last checkpoint', async () => {
    const { a, b } = await setUp();
    for (let i = 1; i <= 10; i++) await a.node.broadcast('s1', 'g', i);
    await vi.advanceTimersByTimeAsync(EVERY);
    for (let i = 11; i <= 12; i++) await a.node.broadcast('s1', 'g', i);
    nodes.store.killNode('A');
    const resumed = await b.node.resumeSession('s2', 'h2', 'h3');
    expect(resumed?.groups.map((g) => [g.group, g.messages.map((m) => m.data)])).toEqual([['g', [11, 12]]]);
  });

  it('0 turns checkpoints off (close() stopping the timer is checked after every test: no timer left)', async () => {
    const { a } = await setUp(0);
    await a.node.broadcast('s1', 'g', 'x');
    await vi.advanceTimersByTimeAsync(3 * EVERY);
    expect((await a.backend.sessions.read('s2'))?.groups).toEqual({ g: 0 });
  });

  it('a suspended session keeps the exact offsets of its suspension', async () => {
    const { a } = await setUp();
    for (let i = 0; i < 3; i++) await a.node.broadcast('s1', 'g', i);
    await a.node.suspendSession('s2', { g: 1 });
    await vi.advanceTimersByTimeAsync(EVERY);
    expect((await a.backend.sessions.read('s2'))?.groups).toEqual({ g: 1 });
  });
});
