import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startTestGateway, within } from './support/harness.js';
import { upgradeStatus } from '@rooms-kit/testing';

afterEach(cleanup);

describe('Connection', () => {
  it('sends the welcome as the first frame, in the documented shape', async () => {
    const gw = await startTestGateway({ ROOMS_HEARTBEAT_MS: '12345', ROOMS_NODE_ID: 'node-a' });
    const client = await gw.connect();
    expect(client.frames[0]).toEqual({
      ev: 'welcome',
      session: expect.any(String),
      resumeToken: expect.any(String),
      node: 'node-a',
      heartbeatMs: 12345,
      resumed: false,
    });
    expect(Object.keys(client.frames[0] as object)).toEqual(['ev', 'session', 'resumeToken', 'node', 'heartbeatMs', 'resumed']);
    // 128 bits or more of randomness, base64url.
    expect(client.welcome.session).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(client.welcome.resumeToken).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  });

  it('gives each connection its own session and token', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    expect(a.session).not.toBe(b.session);
    expect(a.welcome.resumeToken).not.toBe(b.welcome.resumeToken);
  });

  it('answers the ping op with exactly {"ref":n,"ok":true}', async () => {
    const gw = await startTestGateway();
    const client = await gw.connect();
    const reply = await client.request('ping');
    expect(client.frames.at(-1)).toEqual({ ref: reply.ref, ok: true });
  });

  it('refuses upgrades on other paths (404) and unknown formats (400); accepts format=json', async () => {
    const gw = await startTestGateway();
    expect(await upgradeStatus(`ws://127.0.0.1:${gw.port}/v2`)).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${gw.port}/`)).toBe(404);
    expect(await upgradeStatus(`${gw.url}?format=msgpack`)).toBe(400);
    const client = await gw.connect({ format: 'json' });
    expect(client.welcome.resumed).toBe(false);
  });

  it('pings with WebSocket pings and drops a connection that does not pong; its session stays resumable', async () => {
    const gw = await startTestGateway({ ROOMS_HEARTBEAT_MS: '50' });
    const member = await gw.connect();
    const mute = await gw.connect({}, { autoPong: false });
    const { group } = await member.ok('create', {});
    await mute.ok('join', { group });
    const closed = await mute.closedWithin(2000);
    expect(closed.code).toBe(1006);
    // Suspended, not ended: the member saw no `left`, and the session resumes.
    const back = await gw.connect({ session: mute.session, resume: mute.welcome.resumeToken });
    expect(back.welcome.resumed).toBe(true);
    await member.event('rejoined', { group });
    expect(member.events('left')).toEqual([]);
  });

  it('keeps a connection that answers pings, through the beats that drop one that does not', async () => {
    const gw = await startTestGateway({ ROOMS_HEARTBEAT_MS: '30' });
    const client = await gw.connect();
    const mute = await gw.connect({}, { autoPong: false });
    let pings = 0;
    let mutePings = 0;
    const fourPings = new Promise<void>((resolve) =>
      client.ws.on('ping', () => {
        if (++pings >= 4) resolve();
      }),
    );
    mute.ws.on('ping', () => mutePings++);
    await within(fourPings, 'four heartbeats');
    // The same beats dropped the one that did not answer (at its second beat) ...
    expect((await mute.closedWithin()).code).toBe(1006);
    expect(mutePings).toBeGreaterThanOrEqual(1);
    // ... and kept the one that did: still open, still served.
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect((await client.request('ping')).ok).toBe(true);
    expect(gw.gateway.connectionCount).toBe(1);
  });

  it('queues requests sent before the welcome behind the handshake', async () => {
    const gw = await startTestGateway();
    const client = await gw.open();
    client.send({ op: 'ping', ref: 99 });
    await client.waitFor((m) => m.ref === 99);
    expect(client.messages[0]?.ev).toBe('welcome');
  });

  it('a handshake the node cannot complete sends an error event and closes with 1011', async () => {
    const gw = await startTestGateway();
    await gw.gateway.node.close();
    const client = await gw.open();
    expect((await client.closedWithin()).code).toBe(1011);
    expect(client.messages).toEqual([{ ev: 'error', error: { code: 'UNAVAILABLE', message: expect.any(String), temporary: true } }]);
  });
});
