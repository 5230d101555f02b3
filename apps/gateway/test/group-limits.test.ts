import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TTL_SECONDS } from '@rooms-kit/contract';
import { cleanup, startTestGateway } from './support/harness.js';

afterEach(cleanup);

describe('Bounds on what a client can make a node hold', () => {
  it('one session asking for 20,000 empty long-lived groups gets 100 (the default bound); the rest are FORBIDDEN', async () => {
    // Rate limit off: the bound under test is the created-groups one, not the request rate.
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '0' });
    const client = await gw.connect();
    const attempts = 20_000;
    const isReply = (m: { ref?: unknown }): boolean => typeof m.ref === 'number' && m.ref <= attempts && 'ok' in m;
    // In batches the client reads as it goes (one process runs both ends: a client that never reads is a slow consumer).
    for (let ref = 1; ref <= attempts; ref++) {
      client.send({ op: 'create', ref, group: `empty-${ref}`, join: false, allowEmpty: true, ttl: MAX_TTL_SECONDS });
      if (ref % 500 === 0) await client.waitForCount(isReply, ref, `replies up to ${ref}`, 30_000);
    }
    const replies = await client.waitForCount(isReply, attempts, 'every reply', 30_000);
    const accepted = replies.filter((m) => m.ok === true).map((m) => m.ref);
    expect(accepted).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const refused = replies.filter((m) => m.ok === false);
    expect(refused).toHaveLength(attempts - 100);
    for (const reply of refused) {
      expect(reply.error).toEqual({ code: 'FORBIDDEN', message: 'a session may have created at most 100 groups that still exist', temporary: false });
    }
    expect(await gw.gateway.node.listGroups()).toHaveLength(100);
    // The connection and the node keep serving.
    expect((await client.ok('group', { group: 'empty-100' })).state).toBe('created');
    expect((await client.fails('group', { group: 'empty-101' })).code).toBe('GROUP_NOT_FOUND');
  });

  it('a node at ROOMS_MAX_GROUPS answers create with UNAVAILABLE (temporary) and still serves joins', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_GROUPS: '3', ROOMS_MAX_CREATED_GROUPS_PER_SESSION: '2' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g1' });
    await a.ok('create', { group: 'g2' });
    expect(await a.fails('create', { group: 'g3' })).toMatchObject({ code: 'FORBIDDEN' });
    await b.ok('create', { group: 'g3' });
    expect(await b.fails('create', { group: 'g4' })).toEqual({
      code: 'UNAVAILABLE',
      message: 'this node holds its maximum of 3 groups; try again later',
      temporary: true,
    });
    await b.ok('join', { group: 'g1' });
  });

  it('member data and meta: the limit is accepted, one byte more is PAYLOAD_TOO_LARGE', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_MEMBER_DATA_BYTES: '100', ROOMS_MAX_META_BYTES: '50' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    const data = (bytes: number): string => 'x'.repeat(bytes - 2);
    expect(await a.fails('create', { group: 'g', data: data(101) })).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'data of 101 bytes exceeds 100' });
    // {"m":"…"} is 8 bytes around the text.
    expect(await a.fails('create', { group: 'g', meta: { m: 'x'.repeat(43) } })).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'meta of 51 bytes exceeds 50' });
    await a.ok('create', { group: 'g', data: data(100), meta: { m: 'x'.repeat(42) } });
    expect((await b.fails('join', { group: 'g', data: data(101) })).code).toBe('PAYLOAD_TOO_LARGE');
    await b.ok('join', { group: 'g', data: data(100) });
    expect((await b.fails('leave', { group: 'g', data: data(101) })).code).toBe('PAYLOAD_TOO_LARGE');
    await b.ok('leave', { group: 'g', data: data(100) });
    expect(await a.event('left', { group: 'g' })).toMatchObject({ data: data(100) });
  });

  it('history keeps ROOMS_HISTORY_MAX_BYTES: a replay from before it is incomplete', async () => {
    const gw = await startTestGateway({ ROOMS_HISTORY_MAX_BYTES: '1000' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    for (let i = 0; i < 12; i++) await a.ok('broadcast', { group: 'g', data: 'x'.repeat(98) }); // 100 bytes each
    const { messages, complete } = await gw.gateway.node.history('g', 0);
    expect(messages.map((m) => m.offset)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(complete).toBe(false);
    await b.ok('join', { group: 'g' });
  });
});
