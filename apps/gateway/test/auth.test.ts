import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startTestGateway } from './support/harness.js';
import { signToken } from './support/jwt.js';
import { upgradeStatus } from '@rooms-kit/testing';

afterEach(cleanup);

const SECRET = 'a-test-secret-of-some-length-32-bytes+';

describe('Auth (ROOMS_JWT_SECRET)', () => {
  it('refuses with HTTP 401: no token, malformed, wrong signature, expired, another alg', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET });
    const now = Math.floor(Date.now() / 1000);
    const cases = {
      missing: gw.url,
      empty: `${gw.url}?token=`,
      malformed: `${gw.url}?token=not.a.jwt`,
      'wrong signature': `${gw.url}?token=${await signToken('another-secret-of-at-least-32-bytes', { sub: 'u' })}`,
      expired: `${gw.url}?token=${await signToken(SECRET, { sub: 'u', exp: now - 10 })}`,
      HS512: `${gw.url}?token=${await signToken(SECRET, { sub: 'u' }, 'HS512')}`,
    };
    for (const [name, url] of Object.entries(cases)) expect({ name, status: await upgradeStatus(url) }).toEqual({ name, status: 401 });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"u"}').toString('base64url')}.`;
    expect(await upgradeStatus(`${gw.url}?token=${unsigned}`)).toBe(401);
  });

  it('refuses with HTTP 401 a token whose sub is present but not a string', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET });
    for (const sub of [12345, { id: 'u' }, ['u'], true, null]) {
      expect({ sub, status: await upgradeStatus(`${gw.url}?token=${await signToken(SECRET, { sub })}`) }).toEqual({ sub, status: 401 });
    }
    // The same token with a string sub is fine.
    expect((await gw.connect({ token: await signToken(SECRET, { sub: '12345' }) })).welcome.resumed).toBe(false);
  });

  it('accepts a valid token; its sub is the member\'s user', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET });
    const token = await signToken(SECRET, { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 });
    const a = await gw.connect({ token });
    const b = await gw.connect({ token: await signToken(SECRET, { sub: 'bob' }) });
    const created = await a.ok('create', { group: 'g' });
    expect(created.members).toEqual([{ id: a.session, node: gw.gateway.node.nodeId, user: 'alice' }]);
    await b.ok('join', { group: 'g' });
    expect(await a.event('joined')).toMatchObject({ member: { id: b.session, user: 'bob' } });
  });

  it('a token without sub gives a member without user', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET });
    const a = await gw.connect({ token: await signToken(SECRET) });
    const created = await a.ok('create', {});
    expect(created.members).toEqual([{ id: a.session, node: gw.gateway.node.nodeId }]);
  });

  it('a resumed session keeps its user (and needs a valid token too)', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET });
    const token = await signToken(SECRET, { sub: 'carol' });
    const a = await gw.connect({ token });
    await a.ok('create', { group: 'g' });
    await a.terminate();
    expect(await upgradeStatus(`${gw.url}?session=${a.session}&resume=${a.welcome.resumeToken}`)).toBe(401);
    const back = await gw.connect({ token, session: a.session, resume: a.welcome.resumeToken });
    expect((await back.ok('members', { group: 'g' })).members).toEqual([{ id: a.session, node: gw.gateway.node.nodeId, user: 'carol' }]);
  });

  it('a resume with another user\'s token is refused (4001) before anything is taken', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET });
    const carol = await signToken(SECRET, { sub: 'carol' });
    const [member, a] = await Promise.all([gw.connect({ token: await signToken(SECRET, { sub: 'dave' }) }), gw.connect({ token: carol })]);
    await member.ok('create', { group: 'g' });
    await a.ok('join', { group: 'g' });
    await a.terminate();
    const mallory = await gw.open({ token: await signToken(SECRET, { sub: 'mallory' }), session: a.session, resume: a.welcome.resumeToken });
    expect((await mallory.closedWithin()).code).toBe(4001);
    expect(mallory.messages).toEqual([]);
    // Nothing moved: no rejoined, and carol's own token (and resume token) still work.
    const back = await gw.connect({ token: carol, session: a.session, resume: a.welcome.resumeToken });
    expect(back.welcome.resumed).toBe(true);
    expect((await member.event('rejoined', { group: 'g' })).member).toMatchObject({ id: a.session, user: 'carol' });
    expect(member.events('rejoined')).toHaveLength(1);
    expect(member.events('left')).toEqual([]);
  });

  it('a live session cannot be taken over with another user\'s token', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET });
    const a = await gw.connect({ token: await signToken(SECRET, { sub: 'carol' }) });
    const mallory = await gw.open({ token: await signToken(SECRET, { sub: 'mallory' }), session: a.session, resume: a.welcome.resumeToken });
    expect((await mallory.closedWithin()).code).toBe(4001);
    expect((await a.ok('ping')).ok).toBe(true);
  });

  it('without ROOMS_JWT_SECRET no token is needed and members carry no user', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    expect((await a.ok('create', {})).members).toEqual([{ id: a.session, node: gw.gateway.node.nodeId }]);
  });
});
