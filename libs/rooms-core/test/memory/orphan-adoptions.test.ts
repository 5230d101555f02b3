import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestNodes, registerAll } from '../support/nodes.js';

// Issue 13, item 10 on the memory backend: a group orphaned by a dead node is handed to one survivor; when that
// survivor dies too before the group's grace ends, the group must not stay for good: the next survivor adopts it.

const GRACE_MS = 1000;

let nodes: TestNodes;
beforeEach(() => {
  vi.useFakeTimers();
  nodes = new TestNodes();
});
afterEach(async () => {
  await nodes.closeAll();
  vi.useRealTimers();
});

describe('orphaned groups on the in-memory store', () => {
  it('the holder dies, then the node that adopted its empty group dies during the grace: the last node discards the group after its grace', async () => {
    const holder = await nodes.start({ id: 'holder', emptyGraceMs: GRACE_MS });
    const adopter = await nodes.start({ id: 'adopter', emptyGraceMs: GRACE_MS });
    const last = await nodes.start({ id: 'last', emptyGraceMs: GRACE_MS });
    await registerAll(holder.node, 'h1');
    await registerAll(last.node, 'l1');
    await holder.node.create('h1', { group: 'orphan' });

    nodes.store.killNode('holder');
    expect((await adopter.node.groupInfo('orphan')).state).toBe('empty-grace');
    await vi.advanceTimersByTimeAsync(GRACE_MS / 2);
    nodes.store.killNode('adopter');
    // Still there: the adopter died before the grace ended (else this test proves nothing).
    expect(nodes.store.groups.snapshot('last', 'orphan')).not.toBeNull();

    await vi.advanceTimersByTimeAsync(GRACE_MS);
    expect(nodes.store.groups.snapshot('last', 'orphan')).toBeNull();
    await expect(last.node.groupInfo('orphan')).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
    expect((await last.node.create('l1', { group: 'orphan' })).group).toBe('orphan');
  });

  it('an adopted group that got a member again is not handed on when its adopter dies (it is no orphan any more)', async () => {
    const holder = await nodes.start({ id: 'holder', emptyGraceMs: GRACE_MS });
    await nodes.start({ id: 'adopter', emptyGraceMs: GRACE_MS });
    const last = await nodes.start({ id: 'last', emptyGraceMs: GRACE_MS });
    await registerAll(holder.node, 'h1');
    await registerAll(last.node, 'l1');
    await holder.node.create('h1', { group: 'revived' });
    nodes.store.killNode('holder');
    await last.node.join('l1', 'revived');
    nodes.store.killNode('adopter');
    await vi.advanceTimersByTimeAsync(3 * GRACE_MS);
    expect(nodes.store.groups.snapshot('last', 'revived')?.members.map((m) => m.id)).toEqual(['l1']);
  });
});
