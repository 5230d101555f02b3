import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

describe('NodeManager leave', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('removes the member and sends left with reason leave and the leave data to the others', async () => {
    const { node, delivery } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g', { data: 'hi' });
    delivery.clear();
    expect(await node.leave('s2', 'g', { data: { bye: 1 } })).toEqual({ group: 'g' });
    expect(delivery.eventsFor('s1')).toEqual([
      { ev: 'left', group: 'g', member: { id: 's2', node: 'A', data: 'hi' }, reason: 'leave', data: { bye: 1 } },
    ]);
    expect(delivery.eventsFor('s2')).toEqual([]);
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1']);
    expect(node.groupsOf('s2')).toEqual({ groups: [], latest: null });
  });

  it('sends left without data when the leave carries none', async () => {
    const { node, delivery } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    await node.leave('s2', 'g');
    expect(delivery.eventsFor('s1')).toEqual([{ ev: 'left', group: 'g', member: { id: 's2', node: 'A' }, reason: 'leave' }]);
  });

  it('rejects NOT_MEMBER for a group the session is not in', async () => {
    const { node, delivery } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    delivery.clear();
    await expectRoomsError(node.leave('s2', 'g'), 'NOT_MEMBER');
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1']);
    expect(delivery.log).toEqual([]);
  });

  it('rejects GROUP_NOT_FOUND for a missing group', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    await expectRoomsError(node.leave('s1', 'nope'), 'GROUP_NOT_FOUND');
  });

  it('rejects NOT_MEMBER for a second leave', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    await node.leave('s2', 'g');
    await expectRoomsError(node.leave('s2', 'g'), 'NOT_MEMBER');
  });
});
