import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GroupId, MemberInfo } from '../../src/index.js';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

describe('NodeManager admin operations and custom messages', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('discard delivers discarded with reason admin to every member and removes the group', async () => {
    const { node, delivery } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    await node.discard('g');
    for (const session of ['s1', 's2']) expect(delivery.eventsFor(session)).toEqual([{ ev: 'discarded', group: 'g', reason: 'admin' }]);
    expect(delivery.log).toHaveLength(1);
    await expectRoomsError(node.groupInfo('g'), 'GROUP_NOT_FOUND');
    expect(node.groupsOf('s1')).toEqual({ groups: [], latest: null });
    expect(node.registry.groupCount).toBe(0);
  });

  it('discard rejects GROUP_NOT_FOUND for a missing group', async () => {
    const { node } = await nodes.start();
    await expectRoomsError(node.discard('nope'), 'GROUP_NOT_FOUND');
  });

  it('kick ends the session: members get left with reason kicked', async () => {
    const { node, delivery } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.create('s2', { group: 'h' });
    await node.join('s2', 'g');
    delivery.clear();
    expect(await node.kick('s2')).toBe(true);
    expect(delivery.eventsFor('s1')).toEqual([{ ev: 'left', group: 'g', member: { id: 's2', node: 'A' }, reason: 'kicked' }]);
    expect(node.hasSession('s2')).toBe(false);
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1']);
    expect(await node.members('h')).toEqual([]);
    expect(await node.kick('s2')).toBe(false);
  });

  it('disconnectMessage gives the payload of left events for disconnects', async () => {
    const calls: Array<[MemberInfo, GroupId, string]> = [];
    const { node, delivery } = await nodes.start({
      id: 'A',
      disconnectMessage: (member, group, reason) => {
        calls.push([member, group, reason]);
        return { gone: member.id, reason };
      },
    });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    await node.unregisterSession('s2');
    expect(delivery.eventsFor('s1')).toEqual([
      { ev: 'left', group: 'g', member: { id: 's2', node: 'A' }, reason: 'disconnect', data: { gone: 's2', reason: 'disconnect' } },
    ]);
    expect(calls).toEqual([[{ id: 's2', node: 'A' }, 'g', 'disconnect']]);
  });

  it('disconnectMessage is not used for a plain leave or a kick', async () => {
    const { node, delivery } = await nodes.start({ disconnectMessage: () => 'custom' });
    await registerAll(node, 's1', 's2', 's3');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    await node.join('s3', 'g');
    delivery.clear();
    await node.leave('s2', 'g');
    await node.kick('s3');
    expect(delivery.eventsOf('s1', 'left').map((e) => [e.reason, e.data])).toEqual([
      ['leave', undefined],
      ['kicked', undefined],
    ]);
  });

  it('a throwing disconnectMessage still sends left, without data', async () => {
    const { node, delivery } = await nodes.start({
      disconnectMessage: () => {
        throw new Error('bug');
      },
    });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    await node.unregisterSession('s2');
    expect(delivery.eventsOf('s1', 'left')).toHaveLength(1);
    expect(delivery.eventsOf('s1', 'left')[0]).not.toHaveProperty('data');
  });

  it('rejoinMessage gives the payload of rejoined events', async () => {
    const { node, delivery } = await nodes.start({ id: 'A', rejoinMessage: (member, group) => ({ back: member.id, group }) });
    await registerAll(node, 's1');
    await node.registerSession('s2', { tokenHash: 'h2' });
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g', { data: 'mine' });
    await node.suspendSession('s2', { g: 0 });
    delivery.clear();
    expect(await node.resumeSession('s2', 'h2', 'h2b')).not.toBeNull();
    expect(delivery.eventsFor('s1')).toEqual([
      { ev: 'rejoined', group: 'g', member: { id: 's2', node: 'A', data: 'mine' }, data: { back: 's2', group: 'g' } },
    ]);
  });

  it('a delivery port that throws is logged and the operation still succeeds', async () => {
    const errors: unknown[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (obj: object) => void errors.push(obj) };
    const { node } = await nodes.start({
      logger,
      delivery: {
        deliver: () => {
          throw new Error('port bug');
        },
      },
    });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    expect(await node.broadcast('s1', 'g', 'x')).toEqual({ recipients: 1, offset: 1 });
    expect(errors.length).toBeGreaterThan(0);
  });
});
