import { afterEach, describe, expect, it, vi } from 'vitest';
import { SLOW_CLOSE_GRACE_MS } from '../src/transports/websocket/websocket-transport.js';
import { ADMIN_TOKEN, adminCall, cleanup, clientSocket, overflowSlowConsumer, startTestGateway, within } from './support/harness.js';
import { signToken } from './support/jwt.js';
import type { ServerMessage } from '@rooms-kit/testing';

afterEach(async () => {
  vi.useRealTimers();
  await cleanup();
});

const isRateLimited = (m: ServerMessage): boolean => m.ok === false && (m.error as { code?: string }).code === 'RATE_LIMITED';
/** The JWT secret of the auth-expiry test (secrets under 32 bytes are refused at start). */
const CLOSE_TEST_SECRET = 'a-jwt-secret-of-close-code-tests-32b';

describe('Close codes', () => {
  it('1000 from the client ends the session at once: members get left disconnect, no resume', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.close(1000);
    await a.event('left', { group: 'g', reason: 'disconnect' });
    const again = await gw.open({ session: b.session, resume: b.welcome.resumeToken });
    expect((await again.closedWithin()).code).toBe(4001);
  });

  it('1001 when the server drains', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    const closed = a.closedWithin();
    await gw.gateway.drain();
    expect((await closed).code).toBe(1001);
  });

  it('1008 when the token expires during the connection (not before)', async () => {
    // The wall clock and timers are faked (I/O is real): the token's lifetime passes without waiting for it.
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: CLOSE_TEST_SECRET });
    const token = await signToken(CLOSE_TEST_SECRET, { sub: 'u', exp: Math.floor(Date.now() / 1000) + 3600 });
    const a = await gw.connect({ token });
    let closed = false;
    void a.closed.then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(3_598_000);
    expect((await a.request('ping')).ok).toBe(true);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    // The expiry has fired; a bounded wait for the close needs a real timer (a faked one would never fire).
    vi.useRealTimers();
    expect((await a.closedWithin()).code).toBe(1008);
  });

  it('1009 for a frame over ROOMS_MAX_PAYLOAD; the session stays resumable', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_PAYLOAD: '1024' });
    const a = await gw.connect();
    a.sendRaw(JSON.stringify({ op: 'ping', ref: 1, pad: 'x'.repeat(2000) }));
    expect((await a.closedWithin()).code).toBe(1009);
    // ws closed it by itself; still counted.
    expect(gw.gateway.stats.closes.get(1009)).toBe(1);
    expect(await (await fetch(`${gw.http}/metrics`)).text()).toContain('rooms_closes_total{code="1009"} 1');
    const back = await gw.connect({ session: a.session, resume: a.welcome.resumeToken });
    expect(back.welcome.resumed).toBe(true);
  });

  it('4000 after more than 20 invalid requests within 10 s, with an error event first', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    for (let i = 0; i < 21; i++) a.sendRaw(`garbage ${i}`);
    const closed = await a.closedWithin();
    expect(closed.code).toBe(4000);
    expect(a.messages.filter((m) => m.ok === false)).toHaveLength(21);
    expect(a.events('error')).toEqual([{ ev: 'error', error: { code: 'BAD_REQUEST', message: expect.any(String), temporary: false } }]);
  });

  it('20 invalid requests are tolerated', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    for (let i = 0; i < 20; i++) a.send({ op: 'nope', ref: i });
    expect((await a.ok('ping')).ok).toBe(true);
  });

  it('a garbage flood closes that client and the server still serves a new one', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '0' });
    const a = await gw.connect();
    const junk = ['', '[]', 'null', '"str"', '{"op":1}', '{"op":"join","group":{}}', '\u0000\u0001', '{"ref":1.5,"op":"ping"}'];
    for (let i = 0; i < 200; i++) a.sendRaw(junk[i % junk.length] ?? '');
    expect((await a.closedWithin()).code).toBe(4000);
    const fresh = await gw.connect();
    expect((await fresh.ok('create', { group: 'after-flood' })).group).toBe('after-flood');
  });

  it('4001 for a resume with a wrong token, an unknown session, or only half the parameters', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    await a.terminate();
    const attempts: Array<Record<string, string>> = [
      { session: a.session, resume: 'wrong' },
      { session: 'unknown', resume: a.welcome.resumeToken },
      { session: a.session },
    ];
    for (const query of attempts) {
      const client = await gw.open(query);
      expect((await client.closedWithin()).code).toBe(4001);
      expect(client.messages).toEqual([]);
    }
    // The refused attempts did not spoil the real token.
    expect((await gw.connect({ session: a.session, resume: a.welcome.resumeToken })).welcome.resumed).toBe(true);
  });

  it('4003 when kicked by the admin API; the session cannot be resumed', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const a = await gw.connect();
    await adminCall(gw, 'DELETE', `/admin/sessions/${a.session}`);
    expect((await a.closedWithin()).code).toBe(4003);
    const again = await gw.open({ session: a.session, resume: a.welcome.resumeToken });
    expect((await again.closedWithin()).code).toBe(4001);
  });

  it('4008 for a slow consumer; its session is suspended, not ended', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_OUTBOUND_BYTES: '65536', ROOMS_RATE_LIMIT: '0' });
    const [sender, slow] = await Promise.all([gw.connect(), gw.connect()]);
    await sender.ok('create', { group: 'g' });
    await slow.ok('join', { group: 'g' });
    await overflowSlowConsumer(gw, sender, slow, 'g', 16 * 1024);
    clientSocket(slow).resume();
    expect((await slow.closedWithin()).code).toBe(4008);
    expect(gw.gateway.stats.closes.get(4008)).toBe(1);
    // Suspended: the sender saw no `left`.
    await sender.ok('ping');
    expect(sender.events('left')).toEqual([]);
    expect((await sender.ok('members', { group: 'g' })).members).toHaveLength(2);
  });

  it('4008: a client that does not read is cut off (its socket destroyed) instead of keeping its buffers', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_OUTBOUND_BYTES: '65536', ROOMS_RATE_LIMIT: '0' });
    const [sender, slow] = await Promise.all([gw.connect(), gw.connect()]);
    await sender.ok('create', { group: 'g' });
    await slow.ok('join', { group: 'g' });
    const server = gw.serverSocketOf(slow);
    const gone = new Promise<void>((resolve) => server.once('close', () => resolve()));
    await overflowSlowConsumer(gw, sender, slow, 'g', 16 * 1024);
    // The client never reads again, so it never completes the close handshake: the server gives up on it.
    await within(gone, 'the server to destroy the socket', SLOW_CLOSE_GRACE_MS + 3000);
    expect(server.destroyed).toBe(true);
    expect(server.writableLength).toBe(0);
  });

  it('4029 only after a second of RATE_LIMITED refusals (the limiter\'s clock is faked)', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '5' });
    vi.useFakeTimers({ toFake: ['performance'] });
    const a = await gw.connect();
    let ref = 0;
    /** Sends `count` pings at the current (fake) time; resolves once the last is answered or the client closed. */
    const burst = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) a.send({ op: 'ping', ref: ++ref });
      const last = ref;
      await Promise.race([a.waitFor((m) => m.ref === last, `reply ${last}`), a.closed]);
    };
    let closed = false;
    void a.closed.then(() => (closed = true));
    await burst(15); // the burst of 10 passes, then refusals start (fake t = 0)
    const refusalsAt = [a.messages.filter(isRateLimited).length];
    for (let t = 100; t <= 900; t += 100) {
      vi.advanceTimersByTime(100);
      await burst(5);
      expect({ t, closed }).toEqual({ t, closed: false });
      refusalsAt.push(a.messages.filter(isRateLimited).length);
    }
    // Refused all along the second: every 100 ms step had refusals (a token trickles in every 200 ms at most).
    for (let i = 1; i < refusalsAt.length; i++) expect((refusalsAt[i] ?? 0) - (refusalsAt[i - 1] ?? 0)).toBeGreaterThanOrEqual(4);
    expect(refusalsAt.at(-1)).toBeGreaterThanOrEqual(40);
    vi.advanceTimersByTime(100); // a full second after the first refusal
    await burst(5);
    expect((await a.closedWithin()).code).toBe(4029);
    expect(a.events('error')).toEqual([{ ev: 'error', error: { code: 'RATE_LIMITED', message: expect.any(String), temporary: true } }]);
  });
});
