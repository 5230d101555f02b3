import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { encodeBatch, encodeErrorReply, encodeEvent, encodeMessageEvent, encodeReply } from '@rooms-kit/protocol/server';
import { RoomsClient, RoomsClientError } from '../src/index.js';
import type { MessageEvent, RoomsClientEvents, RoomsClientOptions } from '../src/index.js';
import { FakeServer, withTimeout } from './fake-server.js';
import type { FakeConnection } from './fake-server.js';

/** `ws`'s WebSocket, counting constructions (every connection attempt). */
class CountingWebSocket extends WebSocket {
  static created = 0;
  constructor(url: string) {
    super(url);
    CountingWebSocket.created++;
  }
}

let server: FakeServer;
let clients: RoomsClient[];

beforeEach(async () => {
  server = await FakeServer.start();
  clients = [];
  CountingWebSocket.created = 0;
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clients.map((client) => withTimeout(client.close(), 5000, 'client close')));
  // Nothing left open: every socket a client opened is closed on the server's side too.
  await Promise.all([...server.open].map((conn) => withTimeout(conn.closed, 5000, 'server-side close')));
  expect(server.open.size).toBe(0);
  await server.stop();
});

function newClient(options: Partial<RoomsClientOptions> = {}): RoomsClient {
  const client = new RoomsClient({
    url: server.url,
    WebSocket: CountingWebSocket,
    reconnect: { minDelayMs: 5, maxDelayMs: 20 },
    requestTimeoutMs: 3000,
    ...options,
  });
  clients.push(client);
  return client;
}

/** Connects a client and returns it with the server's side of its connection. */
async function connected(options: Partial<RoomsClientOptions> = {}): Promise<[RoomsClient, FakeConnection]> {
  const client = newClient(options);
  await withTimeout(client.connect(), 5000, 'connect');
  return [client, await server.connections.next('connection')];
}

function nextEvent<K extends keyof RoomsClientEvents>(client: RoomsClient, event: K, ms = 5000): Promise<RoomsClientEvents[K]> {
  return withTimeout(
    new Promise<RoomsClientEvents[K]>((resolve) => {
      const off = client.on(event, (payload) => {
        off();
        resolve(payload);
      });
    }),
    ms,
    `event ${event}`,
  );
}

function collect<K extends keyof RoomsClientEvents>(client: RoomsClient, event: K): RoomsClientEvents[K][] {
  const seen: RoomsClientEvents[K][] = [];
  client.on(event, (payload) => seen.push(payload));
  return seen;
}

async function rejection(promise: Promise<unknown>): Promise<RoomsClientError> {
  try {
    await withTimeout(promise, 5000, 'rejection');
  } catch (error) {
    expect(error).toBeInstanceOf(RoomsClientError);
    return error as RoomsClientError;
  }
  throw new Error('expected a rejection');
}

const offsets = (messages: MessageEvent[]): number[] => messages.map((message) => message.offset);

describe('connecting', () => {
  it('resolves with the welcome, on /v1, with the token', async () => {
    const client = newClient({ url: `${server.url}/`, token: 'secret token' });
    const welcomeEvent = nextEvent(client, 'welcome');
    const welcome = await client.connect();
    const conn = await server.connections.next();
    expect(conn.path).toBe('/v1');
    expect(conn.query.get('token')).toBe('secret token');
    expect(conn.query.has('session')).toBe(false);
    expect(welcome).toMatchObject({ ev: 'welcome', resumed: false, node: 'fake', session: conn.session?.id });
    expect(await welcomeEvent).toEqual(welcome);
    expect(client.state).toBe('open');
    expect(client.session).toBe(welcome.session);
    expect(await client.connect()).toBe(welcome); // already open: the same welcome
  });

  it('asks a token function before every attempt', async () => {
    let calls = 0;
    const [, conn] = await connected({ token: async () => `tok${++calls}` });
    expect(conn.query.get('token')).toBe('tok1');
  });

  it('rejects with CONNECT_FAILED (temporary) when nothing listens', async () => {
    const stopped = await FakeServer.start();
    await stopped.stop();
    const client = newClient({ url: stopped.url });
    const error = await rejection(client.connect());
    expect(error).toMatchObject({ code: 'CONNECT_FAILED', temporary: true });
    expect(client.state).toBe('idle');
  });

  it('rejects requests before connect() with NOT_CONNECTED', async () => {
    const client = newClient();
    expect(await rejection(client.ping())).toMatchObject({ code: 'NOT_CONNECTED', temporary: false });
  });

  it('throws without a WebSocket implementation or with a bad URL', () => {
    const hasGlobal = 'WebSocket' in globalThis;
    if (!hasGlobal) expect(() => new RoomsClient({ url: server.url })).toThrow(TypeError);
    expect(() => new RoomsClient({ url: 'not a url', WebSocket })).toThrow(TypeError);
  });
});

describe('requests', () => {
  it('correlates replies by ref, whatever their order, and resolves with the result only', async () => {
    const [client, conn] = await connected();
    conn.hold = true;
    const first = client.members('a');
    const second = client.members('b');
    const r1 = await conn.requests.next();
    const r2 = await conn.requests.next();
    expect(r1).toMatchObject({ op: 'members', group: 'a' });
    expect(r2).toMatchObject({ op: 'members', group: 'b' });
    expect(r1.ref).not.toBe(r2.ref);
    conn.send(encodeReply(r2.ref ?? -1, { group: 'b', members: [] }));
    conn.send(encodeReply(r1.ref ?? -1, { group: 'a', members: [{ id: 'x', node: 'n' }] }));
    expect(await first).toEqual({ group: 'a', members: [{ id: 'x', node: 'n' }] });
    expect(await second).toEqual({ group: 'b', members: [] });
  });

  it('sends every op with its fields', async () => {
    const [client, conn] = await connected();
    const created = await client.create({ group: 'room', meta: { topic: 't' }, data: { name: 'ann' } });
    expect(created).toEqual({ group: 'room', members: [{ id: client.session, node: 'fake', data: { name: 'ann' } }] });
    expect(await client.broadcast('room', { hi: 1 }, { self: true })).toEqual({ recipients: 1, offset: 1 });
    expect(await client.groups()).toEqual({ groups: ['room'], latest: 'room' });
    expect(await client.group('room')).toMatchObject({ group: 'room', state: 'active', size: 1 });
    expect(await client.join('room')).toMatchObject({ already: true, offset: 1 });
    expect(await client.leave('room', { bye: true })).toEqual({ group: 'room' });
    await client.ping();
    expect(conn.requests.items.map((request) => request.op)).toEqual(['create', 'broadcast', 'groups', 'group', 'join', 'leave', 'ping']);
    expect(conn.requests.items[0]).toMatchObject({ group: 'room', meta: { topic: 't' }, data: { name: 'ann' } });
    expect(conn.requests.items[1]).toMatchObject({ group: 'room', data: { hi: 1 }, self: true });
    expect(conn.requests.items[5]).toMatchObject({ group: 'room', data: { bye: true } });
  });

  it('rejects with the server code, message and temporary flag', async () => {
    const [client, conn] = await connected();
    conn.hold = true;
    const limited = client.ping();
    const request = await conn.requests.next();
    conn.send(encodeErrorReply(request.ref ?? null, { code: 'RATE_LIMITED', message: 'slow down', temporary: true }));
    expect(await rejection(limited)).toMatchObject({ code: 'RATE_LIMITED', message: 'slow down', temporary: true });

    conn.hold = false;
    const bad = await rejection(client.join('not valid'));
    expect(bad).toMatchObject({ code: 'BAD_REQUEST', temporary: false });
    expect(bad.message).toMatch(/^group: /);
    expect(await rejection(client.leave('missing'))).toMatchObject({ code: 'GROUP_NOT_FOUND', message: 'fake: GROUP_NOT_FOUND' });
  });

  it('rejects with TIMEOUT (temporary) when no reply comes, and ignores the late reply', async () => {
    const [client, conn] = await connected({ requestTimeoutMs: 50 });
    conn.hold = true;
    const errors = collect(client, 'error');
    const error = await rejection(client.ping());
    expect(error).toMatchObject({ code: 'TIMEOUT', temporary: true });
    const request = await conn.requests.next();
    conn.send(encodeReply(request.ref ?? -1, {}));
    conn.hold = false;
    await client.ping(); // the late reply was processed before this one
    expect(errors).toEqual([]);
  });
});

describe('events', () => {
  it('delivers joined, message, left and discarded', async () => {
    const [a] = await connected();
    const [b] = await connected();
    await a.create({ group: 'room' });

    const joined = nextEvent(a, 'joined');
    await b.join('room', { data: { name: 'bob' } });
    expect(await joined).toEqual({ ev: 'joined', group: 'room', member: { id: b.session, node: 'fake', data: { name: 'bob' } }, data: { name: 'bob' } });

    const message = nextEvent(a, 'message');
    expect(await b.broadcast('room', 'hello')).toEqual({ recipients: 1, offset: 1 });
    expect(await message).toEqual({ ev: 'message', group: 'room', from: b.session, data: 'hello', offset: 1 });

    const left = nextEvent(a, 'left');
    await b.leave('room', 'bye');
    expect(await left).toEqual({ ev: 'left', group: 'room', member: { id: b.session, node: 'fake' }, reason: 'leave', data: 'bye' });
  });

  it('accepts frames holding an array of messages', async () => {
    const [client, conn] = await connected();
    conn.hold = true;
    const messages = collect(client, 'message');
    const pending = client.members('g');
    const request = await conn.requests.next();
    conn.send(encodeBatch([
      encodeMessageEvent('g', 'x', 'one', 1),
      encodeReply(request.ref ?? -1, { group: 'g', members: [] }),
      encodeMessageEvent('g', null, 'two', 2),
    ]));
    expect(await pending).toEqual({ group: 'g', members: [] });
    // The whole frame is processed before the promise's continuation runs.
    expect(messages.map((message) => message.data)).toEqual(['one', 'two']);
  });

  it('emits server error events, ref:null error replies and malformed frames as error', async () => {
    const [client, conn] = await connected();
    const errors = collect(client, 'error');
    conn.send(encodeEvent({ ev: 'error', error: { code: 'INTERNAL', message: 'boom', temporary: false } }));
    conn.send(encodeErrorReply(null, { code: 'UNKNOWN_OP', message: 'unknown op', temporary: false }));
    conn.send('{"ev":"message"');
    await client.ping(); // a round trip after the three frames: all were processed
    expect(errors.map((error) => [error.code, error.message])).toEqual([
      ['INTERNAL', 'boom'],
      ['UNKNOWN_OP', 'unknown op'],
      ['PROTOCOL', 'frame is not valid JSON'],
    ]);
    expect(client.state).toBe('open');
  });

  it('unsubscribes with the function on() returns', async () => {
    const [client, conn] = await connected();
    const seen: number[] = [];
    const off = client.on('message', (message) => seen.push(message.offset));
    conn.send(encodeMessageEvent('g', null, 1, 1));
    await client.ping();
    off();
    conn.send(encodeMessageEvent('g', null, 2, 2));
    await client.ping();
    expect(seen).toEqual([1]);
  });
});

describe('offset dedupe', () => {
  it('drops message offsets already delivered for the group', async () => {
    const [client, conn] = await connected();
    const messages = collect(client, 'message');
    conn.send(encodeMessageEvent('g', null, 'a', 1));
    conn.send(encodeBatch([encodeMessageEvent('g', null, 'b', 2), encodeMessageEvent('g', null, 'b again', 2)]));
    conn.send(encodeMessageEvent('g', null, 'a again', 1));
    conn.send(encodeMessageEvent('other', null, 'other group', 1));
    conn.send(encodeMessageEvent('g', null, 'c', 3));
    await client.ping();
    expect(messages.map((message) => [message.group, message.data])).toEqual([
      ['g', 'a'], ['g', 'b'], ['other', 'other group'], ['g', 'c'],
    ]);
    expect(client.lastOffset('g')).toBe(3);
  });

  it('starts at the join offset, replays after since, and restarts after discarded', async () => {
    const [a] = await connected();
    const [b, bConn] = await connected();
    await a.create({ group: 'room' });
    for (let i = 0; i < 3; i++) await a.broadcast('room', i);

    const messages = collect(b, 'message');
    expect(await b.join('room')).toMatchObject({ offset: 3 });
    expect(b.lastOffset('room')).toBe(3);
    bConn.send(encodeMessageEvent('room', a.session, 'stale', 3)); // at the join offset: already past
    await b.leave('room');
    expect(b.lastOffset('room')).toBeUndefined();
    expect(await b.join('room', { since: 1 })).toMatchObject({ offset: 3, recovered: true });
    await b.ping();
    expect(offsets(messages)).toEqual([2, 3]); // the replay after offset 1

    bConn.send(encodeEvent({ ev: 'discarded', group: 'room', reason: 'admin' }));
    bConn.send(encodeMessageEvent('room', null, 'new incarnation', 1));
    await b.ping();
    expect(offsets(messages)).toEqual([2, 3, 1]);
  });
});

describe('reconnect', () => {
  it('rejects pending requests (temporary), reconnects with session and resume token, and resumes', async () => {
    const [client, conn] = await connected();
    const welcome = await client.connect();
    conn.hold = true;
    const pending = client.ping();
    await conn.requests.next();
    const disconnect = nextEvent(client, 'disconnect');
    const reconnect = nextEvent(client, 'reconnect');
    conn.drop();

    expect(await rejection(pending)).toMatchObject({ code: 'DISCONNECTED', temporary: true });
    expect(await disconnect).toMatchObject({ code: 1006, willReconnect: true });
    const again = await server.connections.next('reconnection');
    expect(again.path).toBe('/v1');
    expect(again.query.get('session')).toBe(welcome.session);
    expect(again.query.get('resume')).toBe(welcome.resumeToken);
    const info = await reconnect;
    expect(info.resumed).toBe(true);
    expect(info.welcome.session).toBe(welcome.session);
    expect(info.welcome.resumeToken).not.toBe(welcome.resumeToken);
    expect(client.state).toBe('open');
    await client.ping();
  });

  it('uses the fresh resume token of the latest welcome on the next resume', async () => {
    const [client, conn] = await connected();
    let reconnect = nextEvent(client, 'reconnect');
    conn.drop();
    const second = await server.connections.next();
    const { welcome } = await reconnect;
    reconnect = nextEvent(client, 'reconnect');
    second.drop();
    const third = await server.connections.next();
    expect(third.query.get('resume')).toBe(welcome.resumeToken);
    expect((await reconnect).resumed).toBe(true);
  });

  it('drops offsets repeated by the replay after a resume', async () => {
    const [a, aConn] = await connected();
    const [b] = await connected();
    await a.create({ group: 'room' });
    await b.join('room');
    const messages = collect(a, 'message');
    await b.broadcast('room', 1);
    await b.broadcast('room', 2);
    await a.ping();
    expect(offsets(messages)).toEqual([1, 2]);

    server.replayOverlap = 2; // the resume replays offsets 1 and 2 again, plus what was missed
    const disconnect = nextEvent(a, 'disconnect');
    const reconnect = nextEvent(a, 'reconnect');
    aConn.drop();
    await disconnect;
    await aConn.closed;
    await b.broadcast('room', 3); // reaches `a` live or by the replay, depending on the race with the reconnect
    await reconnect;
    await a.ping();
    expect(offsets(messages)).toEqual([1, 2, 3]);
  });

  it('starts a fresh session when the resume is refused with 4001', async () => {
    const [client, conn] = await connected();
    const old = await client.connect();
    conn.send(encodeMessageEvent('g', null, 'x', 5));
    await client.ping();
    expect(client.lastOffset('g')).toBe(5);

    server.refuseResume = true;
    const reconnect = nextEvent(client, 'reconnect');
    conn.drop();
    const refused = await server.connections.next('resume attempt');
    expect(refused.query.get('session')).toBe(old.session);
    expect((await refused.closed).code).toBe(4001);
    const fresh = await server.connections.next('fresh attempt');
    expect(fresh.query.has('session')).toBe(false);
    expect(fresh.query.has('resume')).toBe(false);
    const info = await reconnect;
    expect(info.resumed).toBe(false);
    expect(info.welcome.session).not.toBe(old.session);
    expect(client.session).toBe(info.welcome.session);
    expect(client.lastOffset('g')).toBeUndefined(); // a new session tracks nothing
    await client.ping();
  });

  it('rejects requests made while reconnecting with a temporary error', async () => {
    const [client, conn] = await connected({ reconnect: { minDelayMs: 60_000 } });
    const disconnect = nextEvent(client, 'disconnect');
    conn.drop();
    await disconnect;
    expect(client.state).toBe('reconnecting');
    expect(await rejection(client.members('g'))).toMatchObject({ code: 'DISCONNECTED', temporary: true });
  });

  it('does not reconnect after a kick (4003): the session has ended', async () => {
    const [client, conn] = await connected();
    const disconnect = nextEvent(client, 'disconnect');
    conn.close(4003, 'kicked');
    expect(await disconnect).toEqual({ code: 4003, reason: 'kicked', willReconnect: false });
    expect(client.state).toBe('idle');
    expect(client.session).toBeNull();
    // connect() again starts a new session.
    const welcome = await client.connect();
    expect(welcome.resumed).toBe(false);
    expect((await server.connections.next()).query.has('session')).toBe(false);
  });

  it('does not reconnect when reconnect is disabled; connect() then resumes', async () => {
    const [client, conn] = await connected({ reconnect: { enabled: false } });
    const old = await client.connect();
    const disconnect = nextEvent(client, 'disconnect');
    conn.drop();
    expect(await disconnect).toMatchObject({ willReconnect: false });
    expect(client.state).toBe('idle');
    const reconnect = nextEvent(client, 'reconnect');
    const welcome = await client.connect();
    expect(welcome).toMatchObject({ session: old.session, resumed: true });
    expect(await reconnect).toMatchObject({ resumed: true });
    expect(CountingWebSocket.created).toBe(2);
  });
});

describe('close', () => {
  it('is idempotent, closes with 1000, leaves nothing open and never reconnects', async () => {
    const [client, conn] = await connected();
    const disconnect = nextEvent(client, 'disconnect');
    const first = client.close();
    const second = client.close(4000);
    expect(second).toBe(first);
    await first;
    expect(await conn.closed).toEqual({ code: 1000, reason: '' });
    expect(await disconnect).toEqual({ code: 1000, reason: '', willReconnect: false });
    expect(server.open.size).toBe(0);
    expect(client.state).toBe('closed');
    expect(await rejection(client.connect())).toMatchObject({ code: 'CLOSED' });
    expect(await rejection(client.ping())).toMatchObject({ code: 'CLOSED' });
    expect(CountingWebSocket.created).toBe(1);
  });

  it('rejects pending requests with CLOSED', async () => {
    const [client, conn] = await connected();
    conn.hold = true;
    const pending = client.ping();
    await conn.requests.next();
    void client.close();
    expect(await rejection(pending)).toMatchObject({ code: 'CLOSED', temporary: false });
  });

  it('cancels a scheduled reconnect', async () => {
    const [client, conn] = await connected({ reconnect: { minDelayMs: 1000, maxDelayMs: 1000 } });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const disconnect = nextEvent(client, 'disconnect');
    conn.drop();
    expect(await disconnect).toMatchObject({ willReconnect: true });
    const timers = vi.getTimerCount();
    expect(timers).toBeGreaterThanOrEqual(1); // the reconnect timer
    await client.close();
    expect(vi.getTimerCount()).toBe(timers - 1);
    vi.runAllTimers();
    vi.useRealTimers();
    expect(CountingWebSocket.created).toBe(1);
    expect(server.connections.items).toHaveLength(1);
    expect(client.state).toBe('closed');
  });

  it('aborts a connection attempt in progress', async () => {
    const client = newClient();
    const connecting = client.connect();
    const closing = client.close();
    expect(await rejection(connecting)).toMatchObject({ code: 'CLOSED' });
    await withTimeout(closing, 5000, 'close');
    expect(client.state).toBe('closed');
  });

  it('resolves at once when never connected', async () => {
    const client = newClient();
    await client.close();
    expect(client.state).toBe('closed');
    expect(CountingWebSocket.created).toBe(0);
  });
});
