import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall, cleanup, eventually, startTestGateway } from './support/harness.js';
import { signToken } from './support/jwt.js';
import type { Socket } from 'node:net';

afterEach(cleanup);

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

  it('1008 when the token expires during the connection', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: 'k' });
    const token = await signToken('k', { sub: 'u', exp: Math.floor(Date.now() / 1000) + 2 });
    const a = await gw.connect({ token });
    expect((await a.closedWithin(4000)).code).toBe(1008);
  });

  it('1009 for a frame over ROOMS_MAX_PAYLOAD; the session stays resumable', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_PAYLOAD: '1024' });
    const a = await gw.connect();
    a.sendRaw(JSON.stringify({ op: 'ping', ref: 1, pad: 'x'.repeat(2000) }));
    expect((await a.closedWithin()).code).toBe(1009);
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
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const chunk = 'x'.repeat(16 * 1024);
    let ref = 0;
    while (gw.gateway.connectionCount === 2) {
      if (ref > 20_000) throw new Error('the slow consumer was never closed');
      for (let i = 0; i < 20; i++) sender.send({ op: 'broadcast', ref: ++ref, group: 'g', data: chunk });
      await sender.waitFor((m) => m.ref === ref);
    }
    socket.resume();
    expect((await slow.closedWithin()).code).toBe(4008);
    // Suspended: the sender saw no `left`.
    await sender.ok('ping');
    expect(sender.events('left')).toEqual([]);
    expect((await sender.ok('members', { group: 'g' })).members).toHaveLength(2);
  });

  it('4029 for a client that stays over the rate limit for a second', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '5' });
    const a = await gw.connect();
    let closed = false;
    void a.closed.then(() => (closed = true));
    let ref = 0;
    await eventually(
      () => {
        if (!closed) for (let i = 0; i < 5; i++) a.send({ op: 'ping', ref: ++ref });
        return closed;
      },
      '4029',
      4000,
    );
    expect((await a.closed).code).toBe(4029);
    expect(a.messages.some((m) => (m.error as { code?: string } | undefined)?.code === 'RATE_LIMITED')).toBe(true);
  });
});
