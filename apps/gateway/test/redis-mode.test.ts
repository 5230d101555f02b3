import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, eventually, startTestGateway } from './support/harness.js';
import { RedisServer } from './support/redis-server.js';

const redis = new RedisServer();

beforeAll(() => redis.start());
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
  });
});
