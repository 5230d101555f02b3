import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isValidGroupId } from '../../src/index.js';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

describe('NodeManager create', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('generates an id when none is given and makes the creator the first member with its data', async () => {
    const { node } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1');
    const result = await node.create('s1', { data: { name: 'ann' } });
    expect(isValidGroupId(result.group)).toBe(true);
    expect(result.members).toEqual([{ id: 's1', node: 'A', data: { name: 'ann' } }]);
    expect(node.groupsOf('s1')).toEqual({ groups: [result.group], latest: result.group });
    const other = await node.create('s1');
    expect(other.group).not.toBe(result.group);
  });

  it('uses the given id', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    expect((await node.create('s1', { group: 'room-1' })).group).toBe('room-1');
    expect(await node.listGroups()).toEqual(['room-1']);
  });

  it('rejects GROUP_EXISTS for an id that exists and changes nothing', async () => {
    const { node, delivery } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await expectRoomsError(node.create('s2', { group: 'g' }), 'GROUP_EXISTS');
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1']);
    expect(node.groupsOf('s2')).toEqual({ groups: [], latest: null });
    expect(delivery.log).toEqual([]);
  });

  it('rejects BAD_REQUEST for allowEmpty:false with join:false (the group would be empty at once)', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    const error = await expectRoomsError(node.create('s1', { group: 'g', join: false }), 'BAD_REQUEST');
    expect(error.temporary).toBe(false);
    await expectRoomsError(node.create('s1', { group: 'g', join: false, allowEmpty: false }), 'BAD_REQUEST');
    expect(await node.listGroups()).toEqual([]);
  });

  it('with join:false leaves the creator out of the group but makes it latest', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    const result = await node.create('s1', { group: 'g', join: false, allowEmpty: true });
    expect(result).toEqual({ group: 'g', members: [] });
    expect(await node.members('g')).toEqual([]);
    expect(node.groupsOf('s1')).toEqual({ groups: [], latest: 'g' });
    expect((await node.groupInfo('g')).state).toBe('created');
  });

  it('lets the server create an empty group without a session', async () => {
    const { node } = await nodes.start();
    expect(await node.create(null, { group: 'g', join: false, allowEmpty: true, meta: { topic: 'x' } })).toEqual({ group: 'g', members: [] });
    expect((await node.groupInfo('g')).meta).toEqual({ topic: 'x' });
    await expectRoomsError(node.create(null, { group: 'h' }), 'BAD_REQUEST');
  });

  it('rejects BAD_REQUEST for an invalid id or an unregistered session', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    await expectRoomsError(node.create('s1', { group: 'has space' }), 'BAD_REQUEST');
    await expectRoomsError(node.create('s1', { group: '{tag}' }), 'BAD_REQUEST');
    await expectRoomsError(node.create('ghost', { group: 'g' }), 'BAD_REQUEST');
    expect(await node.listGroups()).toEqual([]);
  });
});
