import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectRoomsError, TestNodes } from '../support/nodes.js';
import type { TestNode } from '../support/nodes.js';

/**
 * A session taken by a resume elsewhere while a create or join of its old connection is in flight on its node, in the
 * order that used to leave a ghost: the take reads the record before the change is in it, the change lands in the
 * store, and the old node learns of the take only from its refused save (the bus could not tell it: a take by a node
 * that took it for dead). The taker never rejoins that group, so the old node must take the member out again.
 * The take runs inside a before-hook of the operation, so the order is the same on every run.
 */
describe('a session taken while a change of its groups is in flight', () => {
  let nodes: TestNodes;
  let a: TestNode;
  let b: TestNode;

  beforeEach(async () => {
    nodes = new TestNodes();
    a = await nodes.start({ id: 'A' });
    b = await nodes.start({ id: 'B' });
    await a.node.registerSession('s1');
    await a.node.registerSession('s3', { tokenHash: 'token-1' });
  });
  afterEach(() => nodes.closeAll());

  /** Takes s3 for B in the store (as a resume there would), without telling A. */
  async function takeForB(): Promise<void> {
    expect(await b.backend.sessions.take('s3', 'token-1', { newTokenHash: 'token-2' })).not.toBeNull();
  }

  async function membersOf(group: string): Promise<string[]> {
    return (await b.node.members(group)).map((member) => `${member.id}@${member.node}`);
  }

  it('a create: the group keeps no member of the session its node forgot', async () => {
    a.node.hooks.before('create', takeForB);
    await a.node.create('s3', { group: 'g1', allowEmpty: true });
    expect(a.node.hasSession('s3')).toBe(false);
    expect(await membersOf('g1')).toEqual([]);
  });

  it('a join: the group keeps no member of the session its node forgot', async () => {
    await a.node.create('s1', { group: 'g1' });
    a.node.hooks.before('join', takeForB);
    await a.node.join('s3', 'g1');
    expect(a.node.hasSession('s3')).toBe(false);
    expect(await membersOf('g1')).toEqual(['s1@A']);
  });

  it('a change saved before the take moves with the session: the taker rejoins it, nothing is taken out', async () => {
    await a.node.create('s3', { group: 'g1' });
    await takeForB();
    // A learns of the take from its next save (a leave of another group would do; a suspend here).
    await a.node.suspendSession('s3', { g1: 0 });
    expect(a.node.hasSession('s3')).toBe(false);
    expect(await membersOf('g1')).toEqual(['s3@A']);
  });

  it('a leave: refused once the session is found taken, leaving its member to the taker (whose record holds it)', async () => {
    await a.node.create('s3', { group: 'g1' });
    a.node.hooks.before('leave', takeForB);
    await expectRoomsError(a.node.leave('s3', 'g1'), 'BAD_REQUEST');
    expect(a.node.hasSession('s3')).toBe(false);
    // Not left: the taker rejoins it from its record (a leave here would be undone by that rejoin, or undo it).
    expect(await membersOf('g1')).toEqual(['s3@A']);
    expect(Object.keys((await b.backend.sessions.read('s3'))?.groups ?? {})).toEqual(['g1']);
  });

  it('an unregister of the old connection keeps the record of a session resumed elsewhere', async () => {
    await takeForB();
    await a.node.unregisterSession('s3');
    expect(await b.backend.sessions.read('s3')).toMatchObject({ node: 'B', tokenHash: 'token-2' });
  });
});
