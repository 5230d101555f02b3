import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectRoomsError, TestNodes } from '../support/nodes.js';
import type { TestNode } from '../support/nodes.js';

/**
 * Found by the concurrent property of `two-nodes-model.test.ts` (seed 422890968, path '68:1:1:1:1:1:1:2:2:2:2',
 * replayPath 'AU:B'), shrunk to: s2 on A creates g2; s1 on B; then at once: join(s1, g2) on B and discard(g2) on B.
 * B starts watching g2 for the join; the store discards g2 after B's watch read the snapshot but before B adopted it,
 * so B's replica misses the `discarded` event and is adopted afterwards: the join is refused GROUP_NOT_FOUND, yet B
 * keeps answering `members` and `group` for g2 (with A's member) until its unwatch delay releases the replica.
 * (Events between a watch's snapshot and the adoption are dropped in general; the discard is the visible case.)
 *
 * Fixed: the applier keeps the events of a group not adopted yet, and the operation that watched it applies them to
 * the replica right after its adoption (`ReplicaApplier.catchUp`, through `settle(local, local.v)`).
 */
describe('a group discarded while a node starts watching it', () => {
  let nodes: TestNodes;
  let a: TestNode;
  let b: TestNode;

  beforeEach(async () => {
    nodes = new TestNodes();
    a = await nodes.start({ id: 'A' });
    b = await nodes.start({ id: 'B' });
    await a.node.registerSession('s2');
    await b.node.registerSession('s1');
    await a.node.create('s2', { group: 'g2' });
  });
  afterEach(() => nodes.closeAll());

  it('is gone on that node too', async () => {
    const [joined, discarded] = await Promise.allSettled([b.node.join('s1', 'g2'), b.node.discard('g2')]);
    expect(discarded.status).toBe('fulfilled');
    expect(joined).toMatchObject({ status: 'rejected', reason: { code: 'GROUP_NOT_FOUND' } });
    await expectRoomsError(a.node.members('g2'), 'GROUP_NOT_FOUND');
    await expectRoomsError(b.node.members('g2'), 'GROUP_NOT_FOUND');
    await expectRoomsError(b.node.groupInfo('g2'), 'GROUP_NOT_FOUND');
  });
});
