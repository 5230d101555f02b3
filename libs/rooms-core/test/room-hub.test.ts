import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeManager } from '../src/index.js';
import { CountingDelivery } from './support/recording-delivery.js';
import { expectRoomsError, registerAll, TestNodes } from './support/nodes.js';
import type { TestNode } from './support/nodes.js';

/**
 * The behaviours of a Go RoomHub (register / join / leaveAll / unregister / broadcast with exclude / members), as the
 * NodeManager provides them: connections are sessions, `self:false` excludes the sender.
 */
describe('RoomHub behaviours of the NodeManager', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  /** Checks that the registry's two indexes, the node's replica and the store agree on group `g`. */
  async function expectConsistent({ node, backend }: TestNode, group: string, sessions: string[]): Promise<void> {
    const local = node.registry.sessionsOf(group);
    expect(local.size).toBe(sessions.length);
    for (const session of sessions) {
      expect(local.has(session)).toBe(true);
      expect(node.registry.groupsOf(session)).toEqual([group]);
    }
    const members = (await node.members(group)).map((m) => m.id).sort();
    const stored = (await backend.groups.snapshot(group))?.members.map((m) => m.id).sort();
    expect(members).toEqual([...sessions].sort());
    expect(stored).toEqual(members);
    expect((await node.groupInfo(group)).size).toBe(sessions.length);
  }

  async function hub(): Promise<TestNode & { node: NodeManager }> {
    const started = await nodes.start({ id: 'A' });
    await registerAll(started.node, 'c1', 'c2', 'c3');
    await started.node.create(null, { group: 'room', allowEmpty: true, join: false });
    return started;
  }

  it('join then members lists the connection', async () => {
    const { node } = await hub();
    await node.join('c1', 'room');
    expect(await node.members('room')).toEqual([{ id: 'c1', node: 'A' }]);
  });

  it('join of an unregistered connection fails with BAD_REQUEST', async () => {
    const { node } = await hub();
    await expectRoomsError(node.join('ghost', 'room'), 'BAD_REQUEST');
    expect(await node.members('room')).toEqual([]);
  });

  it('leaveAll empties every group of that connection and keeps it registered', async () => {
    const { node, delivery } = await hub();
    await node.create('c1', { group: 'other' });
    await node.join('c1', 'room');
    await node.join('c2', 'room');
    await node.join('c2', 'other');
    delivery.clear();
    await node.leaveAll('c1');
    expect(node.groupsOf('c1').groups).toEqual([]);
    expect(node.hasSession('c1')).toBe(true);
    expect((await node.members('room')).map((m) => m.id)).toEqual(['c2']);
    expect((await node.members('other')).map((m) => m.id)).toEqual(['c2']);
    expect(delivery.eventsOf('c2', 'left').map((e) => [e.group, e.member.id, e.reason])).toEqual([
      ['other', 'c1', 'leave'],
      ['room', 'c1', 'leave'],
    ]);
  });

  it('unregister removes the connection from all groups and keeps the others', async () => {
    const { node } = await hub();
    await node.create('c1', { group: 'other' });
    await node.join('c1', 'room');
    await node.join('c2', 'room');
    await node.join('c3', 'other');
    await node.unregisterSession('c1');
    expect(node.hasSession('c1')).toBe(false);
    expect((await node.members('room')).map((m) => m.id)).toEqual(['c2']);
    expect((await node.members('other')).map((m) => m.id)).toEqual(['c3']);
    expect(node.registry.sessionsOf('room').has('c1')).toBe(false);
    expect(node.groupsOf('c2').groups).toEqual(['room']);
    expect(node.groupsOf('c3').groups).toEqual(['other']);
    await expectRoomsError(node.join('c1', 'room'), 'BAD_REQUEST');
  });

  it('broadcast to two members with self returns 2 and both get the exact payload', async () => {
    const { node, delivery } = await hub();
    await node.join('c1', 'room');
    await node.join('c2', 'room');
    delivery.clear();
    const payload = { text: 'héllo', n: [1, 2, { deep: null }] };
    expect((await node.broadcast('c1', 'room', payload, { self: true })).recipients).toBe(2);
    for (const session of ['c1', 'c2']) {
      const [message] = delivery.eventsOf(session, 'message');
      expect(message?.data).toStrictEqual(payload);
    }
  });

  it('broadcast excluding the sender returns 1 and the sender gets nothing', async () => {
    const { node, delivery } = await hub();
    await node.join('c1', 'room');
    await node.join('c2', 'room');
    delivery.clear();
    expect((await node.broadcast('c1', 'room', 'x')).recipients).toBe(1);
    expect(delivery.eventsFor('c1')).toEqual([]);
    expect(delivery.eventsOf('c2', 'message')).toHaveLength(1);
  });

  it('members of a group that never existed fails with GROUP_NOT_FOUND', async () => {
    const { node } = await hub();
    await expectRoomsError(node.members('never'), 'GROUP_NOT_FOUND');
  });

  it('joining twice adds no duplicate', async () => {
    const { node } = await hub();
    await node.join('c1', 'room');
    await node.join('c1', 'room');
    expect(await node.members('room')).toHaveLength(1);
    expect(node.groupsOf('c1').groups).toEqual(['room']);
    expect(node.registry.sessionsOf('room').size).toBe(1);
  });

  it('1000 concurrent joins of 1000 connections into one group leave the registry, replica and store consistent', async () => {
    const delivery = new CountingDelivery();
    const started = await nodes.start({ id: 'A', delivery });
    const sessions = Array.from({ length: 1000 }, (_, i) => `c${i}`);
    await registerAll(started.node, ...sessions);
    await started.node.create(null, { group: 'room', allowEmpty: true, join: false });
    const results = await Promise.all(sessions.map((s) => started.node.join(s, 'room')));
    expect(results.every((r) => !r.already)).toBe(true);
    await expectConsistent(started, 'room', sessions);
    // Every join told every member already there: 0 + 1 + ... + 999.
    expect(delivery.recipients).toBe((999 * 1000) / 2);
  });

  it('1000 concurrent joins of the same connection add it once', async () => {
    const delivery = new CountingDelivery();
    const started = await nodes.start({ id: 'A', delivery });
    await registerAll(started.node, 'c1', 'watcher');
    await started.node.create('watcher', { group: 'room' });
    const results = await Promise.all(Array.from({ length: 1000 }, () => started.node.join('c1', 'room')));
    expect(results.filter((r) => !r.already)).toHaveLength(1);
    expect(started.node.registry.groupsOf('c1')).toEqual(['room']);
    expect(started.node.registry.sessionsOf('room').size).toBe(2);
    expect((await started.node.members('room')).map((m) => m.id)).toEqual(['watcher', 'c1']);
    expect((await started.backend.groups.snapshot('room'))?.members.map((m) => m.id)).toEqual(['watcher', 'c1']);
    // One joined event, to the watcher.
    expect(delivery.calls).toBe(1);
  });
});
