import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall, cleanup, startTestGateway } from './support/harness.js';

afterEach(cleanup);

describe('HTTP: health, readiness, metrics', () => {
  it('GET /healthz is 200 and GET /readyz is 200 while serving', async () => {
    const gw = await startTestGateway();
    expect((await fetch(`${gw.http}/healthz`)).status).toBe(200);
    expect((await fetch(`${gw.http}/readyz`)).status).toBe(200);
    expect((await fetch(`${gw.http}/nothing`)).status).toBe(404);
  });

  it('GET /metrics serves Prometheus text with the gateway\'s metrics', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await a.ok('broadcast', { group: 'g', data: 'm' });
    await b.event('message');
    await a.fails('nope');
    const res = await fetch(`${gw.http}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const line of [
      'rooms_connections 2',
      'rooms_sessions 2',
      'rooms_groups{state="active"} 1',
      'rooms_requests_total{op="broadcast"} 1',
      'rooms_errors_total{code="UNKNOWN_OP"} 1',
      'rooms_messages_in_total 1',
      'rooms_deliveries_total',
      'rooms_outbound_bytes_total',
      'rooms_event_loop_lag_seconds{quantile="0.99"}',
    ]) {
      expect(text).toContain(line);
    }
    // Counters only grow: a second scrape after more traffic shows the sum.
    await a.ok('broadcast', { group: 'g', data: 'm2' });
    expect(await (await fetch(`${gw.http}/metrics`)).text()).toContain('rooms_messages_in_total 2');
  });

  it('two gateways in one process keep separate metrics', async () => {
    const one = await startTestGateway();
    const two = await startTestGateway();
    await one.connect();
    expect(await (await fetch(`${one.http}/metrics`)).text()).toContain('rooms_connections 1');
    expect(await (await fetch(`${two.http}/metrics`)).text()).toContain('rooms_connections 0');
  });
});

describe('HTTP: admin API', () => {
  it('is off (404) when ROOMS_ADMIN_TOKEN is unset', async () => {
    const gw = await startTestGateway();
    expect((await adminCall(gw, 'GET', '/admin/groups')).status).toBe(404);
  });

  it('answers 401 without a token or with a wrong one', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    expect((await adminCall(gw, 'GET', '/admin/groups', { token: null })).status).toBe(401);
    expect((await adminCall(gw, 'GET', '/admin/groups', { token: 'wrong' })).status).toBe(401);
    expect((await adminCall(gw, 'GET', '/admin/groups', { token: `${ADMIN_TOKEN}x` })).status).toBe(401);
    const res = await fetch(`${gw.http}/admin/groups`, { headers: { authorization: ADMIN_TOKEN } });
    expect(res.status).toBe(401);
  });

  it('GET /admin/groups lists every group with id, state, size and static', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN, ROOMS_STATIC_GROUPS: 'lobby' });
    const a = await gw.connect();
    await a.ok('create', { group: 'g' });
    await a.ok('create', { group: 'e', allowEmpty: true, join: false });
    const { status, body } = await adminCall(gw, 'GET', '/admin/groups');
    expect(status).toBe(200);
    const groups = (body.groups as Array<{ id: string }>).sort((x, y) => x.id.localeCompare(y.id));
    expect(groups).toEqual([
      { id: 'e', state: 'created', size: 0, static: false },
      { id: 'g', state: 'active', size: 1, static: false },
      { id: 'lobby', state: 'active', size: 0, static: true },
    ]);
  });

  it('GET /admin/groups/:id gives the group op\'s result plus members; 404 for a missing group', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const a = await gw.connect();
    await a.ok('create', { group: 'g/1', meta: { k: 'v' }, data: 'd' });
    const { status, body } = await adminCall(gw, 'GET', `/admin/groups/${encodeURIComponent('g/1')}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      group: 'g/1',
      state: 'active',
      size: 1,
      nodes: [gw.gateway.node.nodeId],
      meta: { k: 'v' },
      static: false,
      members: [{ id: a.session, node: gw.gateway.node.nodeId, data: 'd' }],
    });
    const missing = await adminCall(gw, 'GET', '/admin/groups/none');
    expect(missing).toEqual({ status: 404, body: { error: { code: 'GROUP_NOT_FOUND', message: expect.any(String), temporary: false } } });
  });

  it('POST /admin/groups/:id/announce delivers the JSON body with from null; 400 for bad JSON; 404 missing', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    const ok = await adminCall(gw, 'POST', '/admin/groups/g/announce', { body: '{"maintenance":"soon"}' });
    expect(ok).toEqual({ status: 200, body: { recipients: 2, offset: 1 } });
    expect(await b.event('message')).toEqual({ ev: 'message', group: 'g', from: null, data: { maintenance: 'soon' }, offset: 1 });
    const bad = await adminCall(gw, 'POST', '/admin/groups/g/announce', { body: '{oops' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect((await adminCall(gw, 'POST', '/admin/groups/none/announce', { body: '1' })).status).toBe(404);
    expect((await adminCall(gw, 'GET', '/admin/groups/g/announce')).status).toBe(405);
  });

  it('DELETE /admin/groups/:id discards the group; 404 for a missing group', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const a = await gw.connect();
    await a.ok('create', { group: 'g' });
    expect(await adminCall(gw, 'DELETE', '/admin/groups/g')).toEqual({ status: 200, body: { group: 'g' } });
    await a.event('discarded', { group: 'g', reason: 'admin' });
    expect((await a.fails('group', { group: 'g' })).code).toBe('GROUP_NOT_FOUND');
    expect((await adminCall(gw, 'DELETE', '/admin/groups/g')).status).toBe(404);
  });

  it('DELETE /admin/sessions/:id kicks: left kicked, close 4003; 404 for an unknown session', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    expect(await adminCall(gw, 'DELETE', `/admin/sessions/${b.session}`)).toEqual({ status: 200, body: { session: b.session } });
    await a.event('left', { reason: 'kicked', member: { id: b.session, node: gw.gateway.node.nodeId } });
    expect((await b.closedWithin()).code).toBe(4003);
    const missing = await adminCall(gw, 'DELETE', '/admin/sessions/nobody');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String), temporary: false } });
  });

  it('kicks a suspended session too', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.terminate();
    expect((await adminCall(gw, 'DELETE', `/admin/sessions/${b.session}`)).status).toBe(200);
    await a.event('left', { reason: 'kicked' });
  });
});
