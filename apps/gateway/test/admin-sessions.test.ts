import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall, cleanup, eventually, startTestGateway } from './support/harness.js';
import { signToken } from './support/jwt.js';

afterEach(cleanup);

const JWT_SECRET = 'admin-sessions-test-secret-of-at-least-32-bytes';

describe('GET /admin/sessions/:id (one node)', () => {
  it("shows the session's user, groups and whether it is connected: false while suspended, true again once resumed", async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN, ROOMS_JWT_SECRET: JWT_SECRET, ROOMS_RESUME_WINDOW_MS: '60000' });
    const token = await signToken(JWT_SECRET, { sub: 'ada' });
    const a = await gw.connect({ token });
    await a.ok('create', { group: 'room/1' });
    await a.ok('create', { group: 'room/2' });
    const path = `/admin/sessions/${a.session}`;
    const node = gw.gateway.node.nodeId;
    expect(await adminCall(gw, 'GET', path)).toEqual({
      status: 200,
      body: { session: a.session, user: 'ada', node, connected: true, transport: 'websocket', groups: ['room/1', 'room/2'] },
    });

    await a.terminate();
    await eventually(async () => (await adminCall(gw, 'GET', path)).body.connected === false, 'the session shown suspended', 60_000);
    expect((await adminCall(gw, 'GET', path)).body).toMatchObject({ user: 'ada', node, groups: ['room/1', 'room/2'] });

    const back = await gw.connect({ token, session: a.session, resume: a.welcome.resumeToken });
    expect(back.welcome.resumed).toBe(true);
    expect((await adminCall(gw, 'GET', path)).body).toMatchObject({ connected: true, groups: ['room/1', 'room/2'] });
  });

  it('answers 404 SESSION_NOT_FOUND for a session that ended, and for DELETE of an unknown session', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const a = await gw.connect();
    await a.close();
    const gone = { status: 404, body: { error: { code: 'SESSION_NOT_FOUND', message: 'no such session', temporary: false } } };
    await eventually(async () => (await adminCall(gw, 'GET', `/admin/sessions/${a.session}`)).status === 404, 'the ended session gone', 60_000);
    expect(await adminCall(gw, 'GET', `/admin/sessions/${a.session}`)).toEqual(gone);
    expect(await adminCall(gw, 'DELETE', '/admin/sessions/never-was')).toEqual(gone);
  });
});
