import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

describe('NodeManager members, groupInfo and groupsOf', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('members rejects GROUP_NOT_FOUND for a group that never existed', async () => {
    const { node } = await nodes.start();
    await expectRoomsError(node.members('never'), 'GROUP_NOT_FOUND');
  });

  it('members answers any session, member or not', async () => {
    const { node } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1', 'outsider');
    await node.create('s1', { group: 'g', data: 1 });
    expect(await node.members('g', 'outsider')).toEqual([{ id: 's1', node: 'A', data: 1 }]);
  });

  it('groupInfo answers state, size, nodes, meta and static', async () => {
    const { node } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1');
    await node.create('s1', { group: 'g', meta: { title: 't' } });
    expect(await node.groupInfo('g')).toEqual({ group: 'g', state: 'active', size: 1, nodes: ['A'], meta: { title: 't' }, static: false });
  });

  it('groupInfo rejects GROUP_NOT_FOUND for a missing group', async () => {
    const { node } = await nodes.start();
    await expectRoomsError(node.groupInfo('never'), 'GROUP_NOT_FOUND');
  });

  it('groupsOf lists the groups of a session in join order with the newest as latest', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s2', { group: 'a' });
    await node.create('s2', { group: 'b' });
    await node.join('s1', 'b');
    await node.join('s1', 'a');
    expect(node.groupsOf('s1')).toEqual({ groups: ['b', 'a'], latest: 'a' });
    await node.leave('s1', 'a');
    expect(node.groupsOf('s1')).toEqual({ groups: ['b'], latest: 'b' });
    expect(node.groupsOf('unknown')).toEqual({ groups: [], latest: null });
  });
});
