import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

describe('NodeManager join', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('adds the member and answers members, already:false and the latest offset', async () => {
    const { node } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.broadcast('s1', 'g', 'one');
    await node.broadcast('s1', 'g', 'two');
    const result = await node.join('s2', 'g', { data: { seat: 2 } });
    expect(result).toEqual({
      group: 'g',
      members: [
        { id: 's1', node: 'A' },
        { id: 's2', node: 'A', data: { seat: 2 } },
      ],
      already: false,
      offset: 2,
    });
    expect(node.groupsOf('s2')).toEqual({ groups: ['g'], latest: 'g' });
  });

  it('answers offset 0 for a group without messages', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    expect((await node.join('s2', 'g')).offset).toBe(0);
  });

  it('sends joined with the member and its data to the other members, not to the joiner', async () => {
    const { node, delivery } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1', 's2', 's3');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    await node.join('s3', 'g', { data: { hello: true } });
    const member = { id: 's3', node: 'A', data: { hello: true } };
    const joined = { ev: 'joined', group: 'g', member, data: { hello: true } };
    expect(delivery.eventsFor('s1')).toEqual([joined]);
    expect(delivery.eventsFor('s2')).toEqual([joined]);
    expect(delivery.eventsFor('s3')).toEqual([]);
    expect(delivery.log).toHaveLength(1);
  });

  it('a second join succeeds with already:true and sends no joined event', async () => {
    const { node, delivery } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    const again = await node.join('s2', 'g', { data: 'ignored' });
    expect(again.already).toBe(true);
    expect(again.members.map((m) => m.id)).toEqual(['s1', 's2']);
    expect(delivery.log).toEqual([]);
  });

  it('rejects GROUP_NOT_FOUND for a missing group', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    await expectRoomsError(node.join('s1', 'nope'), 'GROUP_NOT_FOUND');
    expect(node.groupsOf('s1')).toEqual({ groups: [], latest: null });
  });

  it('rejects GROUP_FULL past maxMembers and changes nothing', async () => {
    const { node, delivery } = await nodes.start();
    await registerAll(node, 's1', 's2', 's3');
    await node.create('s1', { group: 'g', maxMembers: 2 });
    await node.join('s2', 'g');
    delivery.clear();
    const error = await expectRoomsError(node.join('s3', 'g'), 'GROUP_FULL');
    expect(error.temporary).toBe(false);
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1', 's2']);
    expect(node.groupsOf('s3').groups).toEqual([]);
    expect(delivery.log).toEqual([]);
    // Room again after a leave.
    await node.leave('s2', 'g');
    expect((await node.join('s3', 'g')).already).toBe(false);
  });

  it('rejects BAD_REQUEST for an unregistered session', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    await node.create('s1', { group: 'g' });
    await expectRoomsError(node.join('ghost', 'g'), 'BAD_REQUEST');
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1']);
  });

  it('carries the session user in the member', async () => {
    const { node } = await nodes.start({ id: 'A' });
    await node.registerSession('s1', { user: 'alice' });
    await node.create(null, { group: 'g', join: false, allowEmpty: true });
    expect((await node.join('s1', 'g')).members).toEqual([{ id: 's1', node: 'A', user: 'alice' }]);
  });
});
