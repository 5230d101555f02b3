import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RoomsError } from '../../src/index.js';
import type { HookContext } from '../../src/index.js';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

describe('NodeManager hooks', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('a refusing before-join hook changes nothing: no event, no membership', async () => {
    const { node, delivery } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    delivery.clear();
    node.hooks.before('join', (context) => {
      if (context.session === 's2') throw new RoomsError('FORBIDDEN', 'invite only');
    });
    const error = await expectRoomsError(node.join('s2', 'g'), 'FORBIDDEN');
    expect(error.message).toBe('invite only');
    expect(delivery.log).toEqual([]);
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1']);
    expect(node.groupsOf('s2')).toEqual({ groups: [], latest: null });
  });

  it('a refusing before-create hook creates nothing', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    node.hooks.before('create', () => {
      throw new RoomsError('FORBIDDEN');
    });
    await expectRoomsError(node.create('s1', { group: 'g' }), 'FORBIDDEN');
    expect(await node.listGroups()).toEqual([]);
    expect(node.groupsOf('s1')).toEqual({ groups: [], latest: null });
  });

  it('a refusing before-broadcast hook sends nothing and takes no offset', async () => {
    const { node, delivery } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    const remove = node.hooks.before('broadcast', () => {
      throw new RoomsError('FORBIDDEN', 'muted');
    });
    await expectRoomsError(node.broadcast('s1', 'g', 'x'), 'FORBIDDEN');
    expect(delivery.log).toEqual([]);
    remove();
    expect((await node.broadcast('s1', 'g', 'y')).offset).toBe(1);
  });

  it('a refusing before-leave hook keeps the member', async () => {
    const { node, delivery } = await nodes.start();
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    node.hooks.before('leave', () => {
      throw new RoomsError('FORBIDDEN');
    });
    await expectRoomsError(node.leave('s2', 'g'), 'FORBIDDEN');
    expect(delivery.log).toEqual([]);
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1', 's2']);
  });

  it('before-hooks may restrict members and group queries', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1', 'outsider');
    await node.create('s1', { group: 'g' });
    const membersOnly = (context: HookContext) => {
      if (context.session !== null && !node.groupsOf(context.session).groups.includes(context.group)) throw new RoomsError('FORBIDDEN');
    };
    node.hooks.before('members', membersOnly);
    node.hooks.before('group', membersOnly);
    await expectRoomsError(node.members('g', 'outsider'), 'FORBIDDEN');
    await expectRoomsError(node.groupInfo('g', 'outsider'), 'FORBIDDEN');
    expect(await node.members('g', 's1')).toHaveLength(1);
  });

  it('a hook that throws something else refuses with INTERNAL', async () => {
    const { node } = await nodes.start();
    await registerAll(node, 's1');
    node.hooks.before('create', () => {
      throw new TypeError('bug in a hook');
    });
    await expectRoomsError(node.create('s1', { group: 'g' }), 'INTERNAL');
    expect(await node.listGroups()).toEqual([]);
  });

  it('after-hooks see the context and the result; a throwing after-hook does not undo the operation', async () => {
    const { node } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1', 's2');
    const seen: Array<{ context: HookContext; result: unknown }> = [];
    node.hooks.after('create', (context, result) => {
      seen.push({ context, result });
    });
    node.hooks.after('join', (context, result) => {
      seen.push({ context, result });
      throw new Error('after-hook bug');
    });
    node.hooks.after('broadcast', (context, result) => {
      seen.push({ context, result });
    });
    await node.create('s1', { group: 'g' });
    const joined = await node.join('s2', 'g', { data: 'd' });
    await node.broadcast('s2', 'g', 'm');
    expect(seen).toEqual([
      { context: { op: 'create', session: 's1', group: 'g', data: undefined }, result: { group: 'g', members: [{ id: 's1', node: 'A' }] } },
      { context: { op: 'join', session: 's2', group: 'g', data: 'd' }, result: joined },
      { context: { op: 'broadcast', session: 's2', group: 'g', data: 'm' }, result: { recipients: 1, offset: 1 } },
    ]);
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1', 's2']);
  });
});
