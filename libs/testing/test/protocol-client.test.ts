import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { ProtocolClient, UpgradeRefusedError, upgradeStatus } from '../src/index.js';

// A tiny server speaking just enough of the protocol, its behaviour chosen by the path:
// /        welcome, then replies: `ping` ok, `fail` an error reply, `burst` an array frame of events then the reply,
//          `close` closes with 4008 "too slow", `garbage` a frame that is not JSON;
// /early   closes with 4001 before any welcome;  /other  sends an event before the welcome;  /refused  HTTP 403.
const received: Array<{ text: string; binary: boolean }> = [];
const welcome = { ev: 'welcome', session: 's-1', resumeToken: 't-1', node: 'n-1', heartbeatMs: 25_000, resumed: false };
let server: WebSocketServer;
let base: string;
const clients: ProtocolClient[] = [];

function serve(ws: WebSocket, path: string): void {
  if (path === '/early') return void ws.close(4001, 'no such session');
  if (path === '/other') ws.send(JSON.stringify({ ev: 'message', group: 'g', data: 'too early' }));
  ws.send(JSON.stringify(welcome));
  ws.on('message', (data, binary) => {
    const text = data.toString();
    received.push({ text, binary });
    const request = parseRequest(text, binary);
    if (request?.op === 'ping') ws.send(JSON.stringify({ ref: request.ref, ok: true }));
    if (request?.op === 'fail') ws.send(JSON.stringify({ ref: request.ref, ok: false, error: { code: 'GROUP_FULL', message: 'full', temporary: false } }));
    if (request?.op === 'burst') {
      const events = [1, 2, 3].map((offset) => ({ ev: 'message', group: 'g', offset, data: { n: offset } }));
      ws.send(JSON.stringify([...events, { ref: request.ref, ok: true, recipients: 3 }]));
    }
    if (request?.op === 'close') ws.close(4008, 'too slow');
    if (request?.op === 'garbage') ws.send('{not json');
  });
}

function parseRequest(text: string, binary: boolean): { op: string; ref: number } | null {
  try {
    return binary ? null : (JSON.parse(text) as { op: string; ref: number });
  } catch {
    return null; // the malformed frames of the raw-frame test
  }
}

beforeAll(async () => {
  server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, done) => (info.req.url === '/refused' ? done(false, 403) : done(true)),
  });
  server.on('connection', (ws, request) => serve(ws, request.url ?? '/'));
  await new Promise((resolve) => server.once('listening', resolve));
  base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.terminate()));
  received.length = 0;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

async function connect(path = '/'): Promise<ProtocolClient> {
  const client = await ProtocolClient.connect(`${base}${path}`);
  clients.push(client);
  return client;
}

describe('ProtocolClient', () => {
  it('connects once the welcome arrived and exposes it', async () => {
    const client = await connect();
    expect(client.welcome).toEqual(welcome);
    expect(client.session).toBe('s-1');
    expect(client.frames).toEqual([welcome]);
    expect(client.closeInfo).toBeNull();
  });

  it('sends requests with fresh refs and resolves with their replies, ok or not', async () => {
    const client = await connect();
    const [first, second] = await Promise.all([client.request('ping'), client.ok('ping')]);
    expect(first).toEqual({ ref: expect.any(Number), ok: true });
    expect(second.ref).not.toBe(first.ref);
    expect(received.map((frame) => JSON.parse(frame.text) as unknown)).toEqual([
      { op: 'ping', ref: first.ref },
      { op: 'ping', ref: second.ref },
    ]);
    expect(await client.fails('fail', { group: 'g' })).toEqual({ code: 'GROUP_FULL', message: 'full', temporary: false });
    await expect(client.ok('fail')).rejects.toMatchObject({ message: expect.stringContaining('GROUP_FULL'), reply: { ok: false } });
    await expect(client.fails('ping')).rejects.toThrow('ping succeeded');
  });

  it('flattens array frames into messages, keeps the frames as they came, and finds events by fields', async () => {
    const client = await connect();
    const reply = await client.ok('burst');
    expect(reply.recipients).toBe(3);
    expect(client.frames).toHaveLength(2);
    expect(Array.isArray(client.frames[1])).toBe(true);
    expect(client.messages.map((m) => m.offset ?? m.ev ?? 'reply')).toEqual(['welcome', 1, 2, 3, 'reply']);
    expect(client.events('message', { group: 'g', data: { n: 2 } })).toEqual([client.messages[2]]);
    expect(await client.event('message', { offset: 3 })).toBe(client.messages[3]);
    const all = await client.waitForCount((m) => m.ev === 'message', 3);
    expect(all.map((m) => m.offset)).toEqual([1, 2, 3]);
  });

  it('waits for messages still to come, and rejects naming what it waited for after the timeout', async () => {
    const client = await connect();
    const later = client.waitForCount((m) => m.ev === 'message', 2, 'two messages');
    client.send({ op: 'burst', ref: 7 });
    expect((await later).map((m) => m.offset)).toEqual([1, 2, 3]);
    await expect(client.waitFor((m) => m.ev === 'never', 'the never event', 30)).rejects.toThrow(
      /timed out after 30 ms waiting for the never event; the connection to .* is open/,
    );
    await expect(client.waitForCount((m) => m.ev === 'message', 4, 'messages', 30)).rejects.toThrow('waiting for 4 messages (3 so far)');
  });

  it('sends raw text and binary frames as they are', async () => {
    const client = await connect();
    client.sendRaw('{"op":"nope"');
    client.sendRaw(Buffer.from([1, 2, 3]));
    client.send({ op: 'ping', ref: 1 });
    await client.waitFor((m) => m.ref === 1);
    expect(received).toEqual([
      { text: '{"op":"nope"', binary: false },
      { text: '\u0001\u0002\u0003', binary: true },
      { text: '{"op":"ping","ref":1}', binary: false },
    ]);
  });

  it('keeps a frame that is not JSON apart, without failing', async () => {
    const client = await connect();
    client.send({ op: 'garbage' });
    await client.ok('ping');
    expect(client.unparsable).toEqual(['{not json']);
    expect(client.frames).toHaveLength(2);
  });

  it('exposes how the server closed, and fails waits that nothing can satisfy any more at once', async () => {
    const client = await connect();
    const pending = client.waitFor((m) => m.ev === 'never', 'the never event', 10_000);
    client.send({ op: 'close' });
    expect(await client.closedWithin()).toEqual({ code: 4008, reason: 'too slow' });
    expect(client.closeInfo).toEqual({ code: 4008, reason: 'too slow' });
    await expect(pending).rejects.toThrow(/the connection closed waiting for the never event; .* closed with 4008 "too slow"/);
    await expect(client.request('ping')).rejects.toThrow('nothing more can come');
    expect(await client.waitFor((m) => m.ev === 'welcome')).toBe(client.messages[0]);
  });

  it('closedWithin rejects while the connection stays open; close and terminate are idempotent', async () => {
    const client = await connect();
    await expect(client.closedWithin(30)).rejects.toThrow('was not closed within 30 ms');
    expect(await client.close(4000)).toEqual({ code: 4000, reason: '' });
    expect(await client.close()).toEqual({ code: 4000, reason: '' });
    expect(await client.terminate()).toEqual({ code: 4000, reason: '' });
    const dropped = await connect();
    expect((await dropped.terminate()).code).toBe(1006);
  });

  it('open does not wait for the welcome: it sees early closes and early messages', async () => {
    const early = await ProtocolClient.open(`${base}/early`);
    clients.push(early);
    expect(await early.closedWithin()).toEqual({ code: 4001, reason: 'no such session' });
    expect(early.messages).toEqual([]);
    expect(() => early.welcome).toThrow('no welcome');
  });

  it('connect rejects when the connection closes before the welcome or the first message is another', async () => {
    await expect(ProtocolClient.connect(`${base}/early`)).rejects.toThrow(/closed waiting for the welcome; .* closed with 4001/);
    await expect(ProtocolClient.connect(`${base}/other`)).rejects.toThrow('is not the welcome');
  });

  it('reports refused upgrades with their HTTP status', async () => {
    const refused = await ProtocolClient.open(`${base}/refused`).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpgradeRefusedError);
    expect(refused).toMatchObject({ status: 403 });
    expect(await upgradeStatus(`${base}/refused`)).toBe(403);
    await expect(upgradeStatus(`${base}/`)).rejects.toThrow('was accepted');
    await expect(ProtocolClient.open('ws://127.0.0.1:1/')).rejects.toThrow('ECONNREFUSED');
  });
});
