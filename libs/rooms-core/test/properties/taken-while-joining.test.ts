import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestNodes } from '../support/nodes.js';
import type { TestNode } from '../support/nodes.js';

/**
 * Found by the concurrent property of `two-nodes-model.test.ts` (seed 81279394, path
 * '12:0:0:0:0:0:2:1:1:1:3:0:1:1', replayPath 'AAABABACEAAABQU:VVF'), shrunk to:
 *   register(s3@A), then at once: create(s3, g1, join) on A and resume(s3) on B.
 * The resume takes the session's record before the create added g1 to it, so it rejoins nothing; the create still
 * puts s3 in g1 as a member held by A; then A forgets s3 as taken (the bus's `taken`, or its refused save) without
 * leaving g1. g1 keeps a member no node holds, for good: it is listed in `members`, counted in `recipients`, the group
 * never empties (never discarded), and the session ending on B does not remove it.
 *
 * Fixed: a node that forgets a session as taken takes its member out of the groups the taker's record did not hold
 * (`SessionService.forgetTaken`). The interleaving here depends on microtask timing; `test/sessions/
 * taken-while-changing.test.ts` forces the order that used to fail.
 */
describe('a session taken by another node while its create is in flight', () => {
  let nodes: TestNodes;
  let a: TestNode;
  let b: TestNode;

  beforeEach(async () => {
    nodes = new TestNodes();
    a = await nodes.start({ id: 'A' });
    b = await nodes.start({ id: 'B' });
    await a.node.registerSession('s3', { tokenHash: 'token-1' });
  });
  afterEach(() => nodes.closeAll());

  it('leaves no member that no node holds (a ghost) in the group it created', async () => {
    const [created, resumed] = await Promise.all([a.node.create('s3', { group: 'g1' }), b.node.resumeSession('s3', 'token-1', 'token-2')]);
    expect(created.group).toBe('g1');
    expect(resumed).toEqual({ groups: [], lost: [] });
    expect(a.node.hasSession('s3')).toBe(false);
    expect(b.node.hasSession('s3')).toBe(true);
    // Either the member moved with the session (to B) or it is gone; never s3 held by A, which forgot it.
    const holders: Record<string, TestNode> = { A: a, B: b };
    const ghosts = (await b.node.members('g1')).filter((member) => !holders[member.node]?.node.hasSession(member.id));
    expect(ghosts).toEqual([]);
    // And once the session ends where it lives, nothing of it is left in the group.
    await b.node.unregisterSession('s3');
    expect((await b.node.members('g1')).map((member) => member.id)).not.toContain('s3');
  });
});
