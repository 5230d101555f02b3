import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall, cleanup, eventually, startTestGateway, within } from './support/harness.js';
import { PROCESS_READY_TIMEOUT_MS, RedisServer } from '@rooms-kit/testing';

const redis = new RedisServer();

beforeAll(() => redis.start(), PROCESS_READY_TIMEOUT_MS + 10_000);
afterAll(() => redis.stop());
afterEach(cleanup);

describe('Redis mode (ROOMS_REDIS_URL): two gateways, one cluster', () => {
  it('members on two nodes see one group', async () => {
    const env = { ROOMS_REDIS_URL: redis.url };
    const [one, two] = await Promise.all([startTestGateway(env), startTestGateway(env)]);
    const a = await one.connect();
    const b = await two.connect();
    await a.ok('create', { group: 'shared' });
    await b.ok('join', { group: 'shared' });
    expect(await a.event('joined', { group: 'shared' })).toMatchObject({ member: { id: b.session, node: two.gateway.node.nodeId } });
    await a.ok('broadcast', { group: 'shared', data: 'across' });
    expect(await b.event('message', { group: 'shared' })).toMatchObject({ from: a.session, data: 'across', offset: 1 });
  });

  it('drain: 1001, the session resumes on another node (members see rejoined, no left), then the drain ends', async () => {
    const env = { ROOMS_REDIS_URL: redis.url, ROOMS_RESUME_WINDOW_MS: '10000' };
    const [draining, staying] = await Promise.all([startTestGateway(env), startTestGateway(env)]);
    const member = await staying.connect();
    const mover = await draining.connect();
    await member.ok('create', { group: 'g' });
    await mover.ok('join', { group: 'g' });
    await member.event('joined', { group: 'g' });
    let drained = false;
    const drain = draining.gateway.drain().then(() => (drained = true));
    expect((await mover.closedWithin()).code).toBe(1001);
    expect((await fetch(`${draining.http}/readyz`)).status).toBe(503);
    await member.ok('broadcast', { group: 'g', data: 'while away' });
    expect(drained).toBe(false);
    const back = await staying.connect({ session: mover.session, resume: mover.welcome.resumeToken });
    expect(back.welcome).toMatchObject({ resumed: true, node: staying.gateway.node.nodeId });
    expect(await back.event('message', { group: 'g' })).toMatchObject({ data: 'while away', offset: 1 });
    expect(await member.event('rejoined', { group: 'g' })).toMatchObject({ member: { id: mover.session, node: staying.gateway.node.nodeId } });
    await drain;
    expect(member.events('left')).toEqual([]);
  });

  it('drain: a session that does not come back ends when the window does (left disconnect)', async () => {
    const env = { ROOMS_REDIS_URL: redis.url, ROOMS_RESUME_WINDOW_MS: '300' };
    const [draining, staying] = await Promise.all([startTestGateway(env), startTestGateway(env)]);
    const member = await staying.connect();
    const leaver = await draining.connect();
    await member.ok('create', { group: 'h' });
    await leaver.ok('join', { group: 'h' });
    await draining.gateway.drain();
    expect(await member.event('left', { group: 'h' })).toMatchObject({ member: { id: leaver.session }, reason: 'disconnect' });
  });

  it('a live session resumed on another node is taken over: B welcomes it, A drops it, members see rejoined only', async () => {
    const env = { ROOMS_REDIS_URL: redis.url };
    const [nodeA, nodeB] = await Promise.all([startTestGateway(env), startTestGateway(env)]);
    const member = await nodeB.connect();
    const mover = await nodeA.connect();
    await member.ok('create', { group: 'takeover' });
    await mover.ok('join', { group: 'takeover' });
    await member.event('joined', { group: 'takeover' });
    // The client comes back on B while its connection on A still looks alive.
    const back = await nodeB.connect({ session: mover.session, resume: mover.welcome.resumeToken });
    expect(back.welcome).toMatchObject({ resumed: true, session: mover.session, node: nodeB.gateway.node.nodeId });
    await mover.closedWithin();
    expect(await member.event('rejoined', { group: 'takeover' })).toMatchObject({ member: { id: mover.session, node: nodeB.gateway.node.nodeId } });
    // A forgot it without ending it: no `left`, and the session works on B.
    await eventually(() => !nodeA.gateway.node.hasSession(mover.session), 'A to forget the session');
    await member.ok('broadcast', { group: 'takeover', data: 'to B' });
    expect(await back.event('message', { group: 'takeover', data: 'to B' })).toMatchObject({ from: member.session });
    expect((await back.ok('members', { group: 'takeover' })).members).toHaveLength(2);
    expect(member.events('left')).toEqual([]);
    expect(nodeA.gateway.connectionCount).toBe(0);
  });

  it('admin kick via node B of a session connected to node A: closed with 4003, members get left kicked', async () => {
    const env = { ROOMS_REDIS_URL: redis.url, ROOMS_ADMIN_TOKEN: ADMIN_TOKEN };
    const [nodeA, nodeB] = await Promise.all([startTestGateway(env), startTestGateway(env)]);
    const member = await nodeB.connect();
    const victim = await nodeA.connect();
    await member.ok('create', { group: 'kicking' });
    await victim.ok('join', { group: 'kicking' });
    await member.event('joined', { group: 'kicking' });
    const kicked = await adminCall(nodeB, 'DELETE', `/admin/sessions/${victim.session}`);
    expect(kicked).toEqual({ status: 200, body: { session: victim.session } });
    expect((await victim.closedWithin()).code).toBe(4003);
    expect(await member.event('left', { group: 'kicking' })).toMatchObject({ member: { id: victim.session }, reason: 'kicked' });
    // Ended: it cannot be resumed anywhere, and a second kick finds nothing.
    const again = await nodeB.open({ session: victim.session, resume: victim.welcome.resumeToken });
    expect((await again.closedWithin()).code).toBe(4001);
    expect((await adminCall(nodeB, 'DELETE', `/admin/sessions/${victim.session}`)).status).toBe(404);
    expect((await adminCall(nodeA, 'DELETE', '/admin/sessions/nobody-anywhere')).status).toBe(404);
  });

  it('close() during a drain that waits for its sessions settles the drain', async () => {
    const env = { ROOMS_REDIS_URL: redis.url, ROOMS_RESUME_WINDOW_MS: '60000' };
    const gw = await startTestGateway(env);
    const client = await gw.connect();
    await client.ok('create', { group: 'drain-close' });
    let drained = false;
    const drain = gw.gateway.drain().then(() => (drained = true));
    expect((await client.closedWithin()).code).toBe(1001);
    // The drain now waits (up to the window) for the suspended session to be resumed elsewhere.
    expect(gw.gateway.node.hasSession(client.session)).toBe(true);
    expect(drained).toBe(false);
    await gw.gateway.close();
    await within(drain, 'the drain to settle after close()');
    expect(drained).toBe(true);
  });

  it('readyz is 503 while Redis is unreachable and 200 again when it is back', async () => {
    const own = new RedisServer();
    await own.start();
    try {
      const gw = await startTestGateway({ ROOMS_REDIS_URL: own.url });
      const status = async (): Promise<number> => (await fetch(`${gw.http}/readyz`)).status;
      expect(await status()).toBe(200);
      await own.kill();
      await eventually(async () => (await status()) === 503, 'readyz 503', 10_000);
      await own.start();
      await eventually(async () => (await status()) === 200, 'readyz 200', 10_000);
    } finally {
      await cleanup();
      await own.stop();
    }
  }, 2 * PROCESS_READY_TIMEOUT_MS + 30_000);
});
