import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall, cleanup, startTestGateway } from './support/harness.js';

afterEach(cleanup);

describe('Events', () => {
  it('joined: other members get the member and its join payload; the joiner does not', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g', data: { seat: 3 } });
    expect(await a.event('joined', { group: 'g' })).toEqual({
      ev: 'joined',
      group: 'g',
      member: { id: b.session, node: gw.gateway.node.nodeId, data: { seat: 3 } },
      data: { seat: 3 },
    });
    await b.ok('ping');
    expect(b.events('joined')).toEqual([]);
  });

  it('left with reason leave, carrying the leave payload', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.ok('leave', { group: 'g', data: 'bye' });
    expect(await a.event('left', { group: 'g' })).toEqual({
      ev: 'left',
      group: 'g',
      member: { id: b.session, node: gw.gateway.node.nodeId },
      reason: 'leave',
      data: 'bye',
    });
  });

  it('left with reason disconnect when a member closes with 1000', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.close(1000);
    expect(await a.event('left', { group: 'g' })).toMatchObject({ member: { id: b.session }, reason: 'disconnect' });
  });

  it('left with reason kicked when the admin API kicks a member', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    expect((await adminCall(gw, 'DELETE', `/admin/sessions/${b.session}`)).status).toBe(200);
    expect(await a.event('left', { group: 'g' })).toMatchObject({ member: { id: b.session }, reason: 'kicked' });
  });

  it('message: group, from, data and offset; announce has from null', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await a.ok('broadcast', { group: 'g', data: [1, 'two'] });
    expect(await b.event('message', { offset: 1 })).toEqual({ ev: 'message', group: 'g', from: a.session, data: [1, 'two'], offset: 1 });
    await adminCall(gw, 'POST', '/admin/groups/g/announce', { body: '{"notice":true}' });
    for (const client of [a, b]) {
      expect(await client.event('message', { offset: 2 })).toEqual({ ev: 'message', group: 'g', from: null, data: { notice: true }, offset: 2 });
    }
  });

  it('discarded with reason admin reaches every member', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    expect((await adminCall(gw, 'DELETE', '/admin/groups/g')).status).toBe(200);
    for (const client of [a, b]) expect(await client.event('discarded')).toEqual({ ev: 'discarded', group: 'g', reason: 'admin' });
    expect((await a.ok('groups')).groups).toEqual([]);
  });

  it('rejoined when a member resumes its session', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g', data: 'd' });
    await b.terminate();
    await gw.connect({ session: b.session, resume: b.welcome.resumeToken });
    expect(await a.event('rejoined', { group: 'g' })).toEqual({
      ev: 'rejoined',
      group: 'g',
      member: { id: b.session, node: gw.gateway.node.nodeId, data: 'd' },
    });
  });
});
