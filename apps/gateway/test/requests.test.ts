import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startTestGateway } from './support/harness.js';
import type { TestGateway } from './support/harness.js';
import type { ProtocolClient } from '@rooms-kit/testing';

afterEach(cleanup);

async function two(env: Record<string, string> = {}): Promise<{ gw: TestGateway; a: ProtocolClient; b: ProtocolClient }> {
  const gw = await startTestGateway(env);
  const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
  return { gw, a, b };
}

describe('Requests and replies: ops', () => {
  it('create: joins the creator and returns the group and its members', async () => {
    const { a, gw } = await two();
    const reply = await a.request('create', { group: 'room-1', data: { name: 'ann' } });
    expect(reply).toEqual({
      ref: reply.ref,
      ok: true,
      group: 'room-1',
      members: [{ id: a.session, node: gw.gateway.node.nodeId, data: { name: 'ann' } }],
    });
  });

  it('create: generates an id when absent', async () => {
    const { a } = await two();
    const first = await a.ok('create', {});
    const second = await a.ok('create', {});
    expect(first.group).toEqual(expect.any(String));
    expect(first.group).not.toBe(second.group);
  });

  it('create: passes ttl, maxMembers, interval and meta to the group', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g', ttl: 0.5, maxMembers: 1, interval: 0, meta: { topic: 'x' } });
    const info = await b.ok('group', { group: 'g' });
    expect(info.meta).toEqual({ topic: 'x' });
    expect((await b.fails('join', { group: 'g' })).code).toBe('GROUP_FULL');
  });

  it('create with join:false and allowEmpty:true: no member, but it is the latest group', async () => {
    const { a } = await two();
    const reply = await a.ok('create', { group: 'empty', allowEmpty: true, join: false });
    expect(reply.members).toEqual([]);
    const groups = await a.ok('groups');
    expect(groups.groups).toEqual([]);
    expect(groups.latest).toBe('empty');
  });

  it('join: returns members, already:false and the latest offset', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g' });
    await a.ok('broadcast', { group: 'g', data: 1 });
    await a.ok('broadcast', { group: 'g', data: 2 });
    const reply = await b.request('join', { group: 'g', data: 'hi' });
    expect(reply).toMatchObject({ ok: true, group: 'g', already: false, offset: 2 });
    expect(reply).not.toHaveProperty('recovered');
    expect((reply.members as Array<{ id: string }>).map((m) => m.id).sort()).toEqual([a.session, b.session].sort());
  });

  it('join: the offset is 0 for a group without messages', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g' });
    expect((await b.ok('join', { group: 'g' })).offset).toBe(0);
  });

  it('join of a group the session is in: already:true and no joined event', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await a.event('joined', { group: 'g' });
    const again = await b.ok('join', { group: 'g' });
    expect(again.already).toBe(true);
    await a.ok('ping');
    expect(a.events('joined')).toHaveLength(1);
  });

  it('leave: returns the group; NOT_MEMBER when not in it, GROUP_NOT_FOUND when missing', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g' });
    expect((await b.fails('leave', { group: 'g' })).code).toBe('NOT_MEMBER');
    expect((await b.fails('leave', { group: 'nope' })).code).toBe('GROUP_NOT_FOUND');
    await b.ok('join', { group: 'g' });
    const reply = await b.request('leave', { group: 'g' });
    expect(reply).toEqual({ ref: reply.ref, ok: true, group: 'g' });
  });

  it('broadcast: reaches the others, not the sender; recipients counts them', async () => {
    const { gw, a, b } = await two();
    const c = await gw.connect();
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await c.ok('join', { group: 'g' });
    const reply = await a.request('broadcast', { group: 'g', data: { text: 'hello' } });
    expect(reply).toEqual({ ref: reply.ref, ok: true, recipients: 2, offset: 1 });
    for (const client of [b, c]) {
      expect(await client.event('message', { group: 'g' })).toEqual({ ev: 'message', group: 'g', from: a.session, data: { text: 'hello' }, offset: 1 });
    }
    await a.ok('ping');
    expect(a.events('message')).toEqual([]);
  });

  it('broadcast with self:true: the sender receives it and is counted', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    const reply = await a.ok('broadcast', { group: 'g', data: 'x', self: true });
    expect(reply.recipients).toBe(2);
    expect(await a.event('message', { group: 'g' })).toMatchObject({ from: a.session, data: 'x', offset: 1 });
  });

  it('broadcast requires membership: NOT_MEMBER, GROUP_NOT_FOUND', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g' });
    expect((await b.fails('broadcast', { group: 'g', data: 1 })).code).toBe('NOT_MEMBER');
    expect((await b.fails('broadcast', { group: 'none', data: 1 })).code).toBe('GROUP_NOT_FOUND');
  });

  it('members and group may be asked by a non-member', async () => {
    const { gw, a, b } = await two();
    await a.ok('create', { group: 'g', data: 7, meta: { m: 1 } });
    const members = await b.request('members', { group: 'g' });
    expect(members).toEqual({ ref: members.ref, ok: true, group: 'g', members: [{ id: a.session, node: gw.gateway.node.nodeId, data: 7 }] });
    const info = await b.request('group', { group: 'g' });
    expect(info).toEqual({ ref: info.ref, ok: true, group: 'g', state: 'active', size: 1, nodes: [gw.gateway.node.nodeId], meta: { m: 1 }, static: false });
    expect((await b.fails('members', { group: 'nope' })).code).toBe('GROUP_NOT_FOUND');
    expect((await b.fails('group', { group: 'nope' })).code).toBe('GROUP_NOT_FOUND');
  });

  it('groups: the session\'s groups and the latest joined or created', async () => {
    const { a, b } = await two();
    expect(await a.ok('groups')).toMatchObject({ groups: [], latest: null });
    await b.ok('create', { group: 'x' });
    await a.ok('create', { group: 'g1' });
    await a.ok('join', { group: 'x' });
    const reply = await a.request('groups');
    expect(reply).toEqual({ ref: reply.ref, ok: true, groups: ['g1', 'x'], latest: 'x' });
    await a.ok('leave', { group: 'x' });
    expect((await a.ok('groups')).groups).toEqual(['g1']);
  });

  it('a request with no op is BAD_REQUEST; an op not in the table is UNKNOWN_OP', async () => {
    const { a } = await two();
    a.send({ ref: 5 });
    expect(await a.waitFor((m) => m.ref === 5)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', temporary: false } });
    expect((await a.fails('teleport')).code).toBe('UNKNOWN_OP');
  });

  it('offsets start at 1 and go up by one per message', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    const offsets: unknown[] = [];
    for (let i = 0; i < 5; i++) offsets.push((await (i % 2 ? b : a).ok('broadcast', { group: 'g', data: i })).offset);
    expect(offsets).toEqual([1, 2, 3, 4, 5]);
  });

  it('fire-and-forget: no success reply, but an error reply with ref null', async () => {
    const { a, b } = await two();
    a.send({ op: 'create', group: 'ff' });
    // Requests of a connection run in order: once the ping is answered, the create is done.
    await a.ok('ping');
    await b.ok('join', { group: 'ff' });
    a.send({ op: 'broadcast', group: 'ff', data: 'quiet' });
    await b.event('message', { data: 'quiet' });
    a.send({ op: 'leave', group: 'nowhere' });
    const error = await a.waitFor((m) => m.ok === false);
    expect(error).toEqual({ ref: null, ok: false, error: { code: 'GROUP_NOT_FOUND', message: expect.any(String), temporary: false } });
    await a.ok('ping');
    // Only the two pings got success replies.
    expect(a.messages.filter((m) => m.ok === true)).toHaveLength(2);
  });

  it('replies and events keep the order they were produced in, per connection', async () => {
    const { a, b } = await two();
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    const count = 50;
    for (let i = 0; i < count; i++) a.send({ op: 'broadcast', ref: 1000 + i, group: 'g', data: i, self: true });
    await a.waitFor((m) => m.ref === 1000 + count - 1);
    await b.waitFor((m) => m.ev === 'message' && m.offset === count);
    const refs = a.messages.filter((m) => typeof m.ref === 'number' && (m.ref as number) >= 1000 && (m.ref as number) < 2000).map((m) => m.ref);
    expect(refs).toEqual(Array.from({ length: count }, (_, i) => 1000 + i));
    const offsets = b.events('message').map((m) => m.offset);
    expect(offsets).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(a.events('message').map((m) => m.offset)).toEqual(offsets);
  });
});
