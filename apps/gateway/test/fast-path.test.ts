import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutboundQueue } from '../src/session/outbound-queue.js';
import type { OutboundFrame } from '../src/transports/outbound-frame.js';
import { WEBSOCKET_ENCODING } from '../src/transports/websocket/ws-frame.js';
import { cleanup, startTestGateway } from './support/harness.js';

afterEach(async () => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  await cleanup();
});

describe('Performance design: delivery', () => {
  it('a group with interval gets its events as ONE JSON-array frame per flush', async () => {
    // Timers are faked (I/O is real): the interval ends exactly when the test says, after all five were produced.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '0' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'ticks', interval: 200 });
    await b.ok('join', { group: 'ticks' });
    for (let i = 0; i < 5; i++) await a.ok('broadcast', { group: 'ticks', data: i });
    await b.ok('ping');
    expect(b.events('message')).toEqual([]);
    await vi.advanceTimersByTimeAsync(200);
    await b.event('message', { offset: 5 });
    const arrays = b.frames.filter((frame) => Array.isArray(frame)) as unknown[][];
    expect(arrays).toHaveLength(1);
    expect(arrays[0]?.map((m) => (m as { offset: number }).offset)).toEqual([1, 2, 3, 4, 5]);
    expect(arrays[0]?.[0]).toEqual({ ev: 'message', group: 'ticks', from: a.session, data: 0, offset: 1 });
  });

  it('buffering holds only that group\'s events: replies and other groups go out at once', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'slow', interval: 60_000 });
    await a.ok('create', { group: 'fast' });
    await b.ok('join', { group: 'slow' });
    await b.ok('join', { group: 'fast' });
    await a.ok('broadcast', { group: 'slow', data: 'later' });
    await a.ok('broadcast', { group: 'fast', data: 'now' });
    expect(await b.event('message', { group: 'fast' })).toMatchObject({ data: 'now' });
    expect(b.events('message', { group: 'slow' })).toEqual([]);
  });

  it('a broadcast to a large group is encoded once: every member\'s queue gets the same frame and bytes', async () => {
    const gw = await startTestGateway();
    const sender = await gw.connect();
    await sender.ok('create', { group: 'big' });
    const members = await Promise.all(Array.from({ length: 20 }, () => gw.connect()));
    for (const member of members) await member.ok('join', { group: 'big' });
    // Test hook: every frame queued to any connection.
    const queued: OutboundFrame[] = [];
    const push = OutboundQueue.prototype.push;
    vi.spyOn(OutboundQueue.prototype, 'push').mockImplementation(function (this: OutboundQueue, frame: OutboundFrame) {
      queued.push(frame);
      push.call(this, frame);
    });
    const reply = await sender.ok('broadcast', { group: 'big', data: { n: 'é' } });
    expect(reply.recipients).toBe(20);
    for (const member of members) {
      expect(await member.event('message', { group: 'big' })).toEqual({ ev: 'message', group: 'big', from: sender.session, data: { n: 'é' }, offset: 1 });
    }
    const messages = queued.filter((frame) => frame.group === 'big' && frame.offset === 1);
    expect(messages).toHaveLength(20);
    expect(new Set(messages).size).toBe(1);
    expect(new Set(messages.map((frame) => frame.encoded(WEBSOCKET_ENCODING))).size).toBe(1);
    expect(gw.gateway.stats.deliveries).toBeGreaterThanOrEqual(20);
  });
});
