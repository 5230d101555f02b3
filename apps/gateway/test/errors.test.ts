import { RoomsError } from '@rooms-kit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall, cleanup, startTestGateway } from './support/harness.js';
import { upgradeStatus } from '@rooms-kit/testing';

afterEach(cleanup);

describe('Error codes', () => {
  it('BAD_REQUEST: malformed JSON, missing fields, wrong types, allowEmpty:false with join:false', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    a.sendRaw('{not json');
    expect(await a.waitFor((m) => m.ok === false)).toEqual({
      ref: null,
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.any(String), temporary: false },
    });
    expect(await a.fails('join', {})).toMatchObject({ code: 'BAD_REQUEST', temporary: false });
    expect((await a.fails('join', { group: 42 })).code).toBe('BAD_REQUEST');
    expect((await a.fails('broadcast', { group: 'g' })).code).toBe('BAD_REQUEST');
    expect((await a.fails('create', { allowEmpty: false, join: false })).code).toBe('BAD_REQUEST');
    expect((await a.fails('create', { join: false })).code).toBe('BAD_REQUEST');
    expect((await a.fails('create', { group: 'bad id with spaces' })).code).toBe('BAD_REQUEST');
  });

  it('UNKNOWN_OP', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    expect(await a.fails('fly')).toMatchObject({ code: 'UNKNOWN_OP', temporary: false });
  });

  it('GROUP_NOT_FOUND and GROUP_EXISTS', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    expect((await a.fails('join', { group: 'missing' })).code).toBe('GROUP_NOT_FOUND');
    await a.ok('create', { group: 'taken' });
    expect((await b.fails('create', { group: 'taken' })).code).toBe('GROUP_EXISTS');
  });

  it('NOT_MEMBER and GROUP_FULL', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'duo', maxMembers: 1 });
    expect((await b.fails('broadcast', { group: 'duo', data: 1 })).code).toBe('NOT_MEMBER');
    expect((await b.fails('join', { group: 'duo' })).code).toBe('GROUP_FULL');
  });

  it('FORBIDDEN: a hook that says no; with auth on, a bad token is HTTP 401 at the upgrade', async () => {
    const gw = await startTestGateway();
    gw.gateway.node.hooks.before('join', () => {
      throw new RoomsError('FORBIDDEN', 'members only');
    });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'club' });
    expect(await b.fails('join', { group: 'club' })).toEqual({ code: 'FORBIDDEN', message: 'members only', temporary: false });
    const secured = await startTestGateway({ ROOMS_JWT_SECRET: 'a-jwt-secret-of-at-least-32-bytes' });
    expect(await upgradeStatus(`${secured.url}?token=garbage`)).toBe(401);
  });

  it('RATE_LIMITED: temporary, with the request\'s ref, and the request is not executed', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '5' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await b.ok('create', { group: 'g' });
    // Burst of 10: the welcome handshake took nothing, so 10 pass and the 11th is refused.
    for (let i = 1; i <= 10; i++) a.send({ op: 'ping', ref: i });
    a.send({ op: 'join', ref: 11, group: 'g' });
    expect(await a.waitFor((m) => m.ref === 11)).toEqual({
      ref: 11,
      ok: false,
      error: { code: 'RATE_LIMITED', message: expect.any(String), temporary: true },
    });
    const members = await b.ok('members', { group: 'g' });
    expect(members.members).toHaveLength(1);
  });

  it('RATE_LIMITED: a rate below 0.5 per second still lets the first frame through', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '0.4' });
    const a = await gw.connect();
    expect((await a.request('ping')).ok).toBe(true);
    expect(await a.fails('ping')).toMatchObject({ code: 'RATE_LIMITED', temporary: true });
  });

  it('PAYLOAD_TOO_LARGE: admin announce of a body over ROOMS_MAX_PAYLOAD is 413', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN, ROOMS_MAX_PAYLOAD: '100' });
    const a = await gw.connect();
    await a.ok('create', { group: 'g' });
    const response = await adminCall(gw, 'POST', '/admin/groups/g/announce', { body: JSON.stringify('x'.repeat(200)) });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String), temporary: false } });
  });

  it('PAYLOAD_TOO_LARGE: the embedding API refuses an announce whose data is over ROOMS_MAX_PAYLOAD', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_PAYLOAD: '1024' });
    const a = await gw.connect();
    await a.ok('create', { group: 'g' });
    await expect(gw.gateway.node.announce('g', 'x'.repeat(2000))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await gw.gateway.node.announce('g', 'small')).toEqual({ recipients: 1, offset: 1 });
    expect(await a.event('message', { group: 'g' })).toMatchObject({ data: 'small', offset: 1 });
  });

  it('FORBIDDEN: a session already in ROOMS_MAX_GROUPS_PER_SESSION groups cannot join or create another', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_GROUPS_PER_SESSION: '2' });
    const [a, other] = await Promise.all([gw.connect(), gw.connect()]);
    await other.ok('create', { group: 'third' });
    await a.ok('create', { group: 'one' });
    await a.ok('join', { group: 'third' });
    const joinRefused = await a.fails('join', { group: 'one-more', data: 1 });
    expect(joinRefused.code).toBe('FORBIDDEN');
    expect(await a.fails('join', { group: 'third2' })).toMatchObject({ code: 'FORBIDDEN' });
    const createRefused = await a.fails('create', { group: 'two' });
    expect(createRefused).toMatchObject({ code: 'FORBIDDEN', temporary: false });
    expect(createRefused.message).toContain('at most 2 groups');
    // Nothing changed, and the connection keeps working: re-joining a group it is in, leaving, then joining.
    expect((await a.ok('groups')).groups).toEqual(['one', 'third']);
    expect(await a.ok('join', { group: 'one' })).toMatchObject({ already: true });
    await a.ok('leave', { group: 'one' });
    expect((await a.ok('create', { group: 'two' })).group).toBe('two');
    // A create that does not join does not count.
    expect((await a.ok('create', { group: 'empty', allowEmpty: true, join: false })).group).toBe('empty');
  });

  it('ROOMS_MAX_GROUPS_PER_SESSION=0 is unlimited', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_GROUPS_PER_SESSION: '0', ROOMS_MAX_CREATED_GROUPS_PER_SESSION: '0', ROOMS_RATE_LIMIT: '0' });
    const a = await gw.connect();
    for (let i = 0; i < 1005; i++) a.send({ op: 'create', group: `g${i}` });
    expect((await a.ok('groups')).groups).toHaveLength(1005);
  });

  it('NODE_DRAINING: a draining node takes no new groups', async () => {
    const gw = await startTestGateway();
    await gw.gateway.drain();
    await expect(gw.gateway.node.create(null, { allowEmpty: true, join: false })).rejects.toMatchObject({ code: 'NODE_DRAINING', temporary: true });
  });

  it('UNAVAILABLE: a node whose store is gone answers with a temporary error', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    await gw.gateway.node.close();
    expect(await a.fails('create', { group: 'g' })).toMatchObject({ code: 'UNAVAILABLE', temporary: true });
  });

  it('INTERNAL: an unexpected failure is reported without details and the connection keeps serving', async () => {
    const gw = await startTestGateway();
    gw.gateway.node.hooks.before('create', () => {
      throw new Error('secret detail');
    });
    const a = await gw.connect();
    const error = await a.fails('create', { group: 'g' });
    expect(error.code).toBe('INTERNAL');
    expect(error.message).not.toContain('secret detail');
    expect((await a.ok('ping')).ok).toBe(true);
  });
});
