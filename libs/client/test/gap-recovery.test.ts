import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { encodeErrorReply, encodeMessageEvent, encodeReply } from '@rooms-kit/protocol/server';
import type { Request } from '@rooms-kit/protocol/server';
import { RoomsClient } from '../src/index.js';
import type { MessageEvent, RoomsClientError, RoomsClientOptions } from '../src/index.js';
import { FakeServer, withTimeout } from './fake-server.js';
import type { FakeConnection } from './fake-server.js';

// Gap detection and recovery: messages lost in flight are asked again with join `since`, later ones are held
// meanwhile, and what cannot be recovered is delivered around the hole with a GAP error.

let server: FakeServer;
let clients: RoomsClient[];

beforeEach(async () => {
  server = await FakeServer.start();
  clients = [];
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(clients.map((client) => withTimeout(client.close(), 5000, 'client close')));
  await Promise.all([...server.open].map((conn) => withTimeout(conn.closed, 5000, 'server-side close')));
  expect(server.open.size).toBe(0);
  await server.stop();
});

async function connected(options: Partial<RoomsClientOptions> = {}): Promise<[RoomsClient, FakeConnection]> {
  const client = new RoomsClient({ url: server.url, WebSocket, reconnect: { minDelayMs: 5, maxDelayMs: 20 }, requestTimeoutMs: 3000, ...options });
  clients.push(client);
  await withTimeout(client.connect(), 5000, 'connect');
  return [client, await server.connections.next('connection')];
}

/** A client in group `g` (tracked from offset 0) whose requests the test answers by hand. */
async function heldMember(options: Partial<RoomsClientOptions> = {}): Promise<{ client: RoomsClient; conn: FakeConnection; messages: MessageEvent[]; errors: RoomsClientError[] }> {
  const [client, conn] = await connected(options);
  await client.create({ group: 'g' });
  await conn.requests.next('create');
  conn.hold = true;
  const messages: MessageEvent[] = [];
  const errors: RoomsClientError[] = [];
  client.on('message', (message) => messages.push(message));
  client.on('error', (error) => errors.push(error));
  return { client, conn, messages, errors };
}

const message = (offset: number): string => encodeMessageEvent('g', 'peer', `m${offset}`, offset);
const offsets = (messages: MessageEvent[]): number[] => messages.map((m) => m.offset);

/** Waits for the next request and checks it is the recovery join of `g` with `since`. */
async function recoveryJoin(conn: FakeConnection, since: number): Promise<number> {
  const request: Request = await conn.requests.next('recovery join');
  expect(request).toMatchObject({ op: 'join', group: 'g', since });
  return request.ref as number;
}

/** A ping answered by hand: once it resolves, the client has handled every frame the server sent before. */
async function roundTrip(conn: FakeConnection, client: RoomsClient): Promise<void> {
  const pinged = client.ping();
  const request = await conn.requests.next('the ping');
  expect(request.op).toBe('ping');
  conn.send(encodeReply(request.ref as number, {}));
  await withTimeout(pinged, 5000, 'ping');
}

function waitFor(what: string, done: () => boolean): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      const poll = (): void => (done() ? resolve() : void setImmediate(poll));
      poll();
    }),
    5000,
    what,
  );
}

describe('gap recovery', () => {
  it('holds messages after a gap, sends one join since the last offset, and delivers replay + held in order, once', async () => {
    const { client, conn, messages } = await heldMember();
    conn.send(message(1));
    conn.send(message(4)); // 2 and 3 were lost in flight
    const ref = await recoveryJoin(conn, 1);
    conn.send(message(5)); // live, while the recovery is in flight
    conn.send(message(6));
    conn.hold = false;
    await client.ping(); // answered after 4, 5 and 6 reached the client: they are held
    expect(offsets(messages)).toEqual([1]);
    expect(client.lastOffset('g')).toBe(1);
    conn.send(encodeReply(ref, { group: 'g', members: [], already: true, offset: 6, recovered: true }));
    for (const offset of [2, 3, 4, 5, 6]) conn.send(message(offset)); // the replay repeats what is held
    conn.send(message(7));
    await client.ping();
    expect(offsets(messages)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(client.lastOffset('g')).toBe(7);
    expect(conn.requests.items.filter((r) => r.op === 'join')).toHaveLength(1);
  });

  it('recovers messages the server wrote to the connection but the client never got (fake server history)', async () => {
    const [sender] = await connected();
    const [reader, readerConn] = await connected();
    await sender.create({ group: 'g' });
    await reader.join('g');
    const messages: MessageEvent[] = [];
    reader.on('message', (m) => messages.push(m));
    readerConn.lose = true;
    for (let i = 0; i < 3; i++) await sender.broadcast('g', i);
    readerConn.lose = false;
    for (let i = 3; i < 5; i++) await sender.broadcast('g', i);
    await waitFor('five messages', () => messages.length >= 5);
    await reader.ping();
    expect(offsets(messages)).toEqual([1, 2, 3, 4, 5]);
    expect(messages.map((m) => m.data)).toEqual([0, 1, 2, 3, 4]);
  });

  it('delivers the held messages around the hole and emits GAP when the reply says recovered:false', async () => {
    const { client, conn, messages, errors } = await heldMember();
    conn.send(message(3));
    const ref = await recoveryJoin(conn, 0);
    conn.send(message(5));
    conn.send(encodeReply(ref, { group: 'g', members: [], already: true, offset: 5, recovered: false }));
    await waitFor('the GAP error', () => errors.length > 0);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'GAP', temporary: false, gap: { group: 'g', lost: [{ from: 1, to: 2 }, { from: 4, to: 4 }] } });
    expect(errors[0]?.message).toContain('1-2, 4');
    conn.send(message(6));
    conn.send(message(4)); // too late: already skipped
    await waitFor('offset 6', () => messages.length >= 3);
    expect(offsets(messages)).toEqual([3, 5, 6]);
    expect(client.lastOffset('g')).toBe(6);
  });

  it('gives the gap up with GAP when the join fails for good (NOT_MEMBER)', async () => {
    const { conn, messages, errors } = await heldMember();
    conn.send(message(2));
    const ref = await recoveryJoin(conn, 0);
    conn.send(encodeErrorReply(ref, { code: 'NOT_MEMBER', message: 'not a member', temporary: false }));
    await waitFor('the GAP error', () => errors.length > 0);
    expect(errors[0]).toMatchObject({ code: 'GAP', gap: { group: 'g', lost: [{ from: 1, to: 1 }] } });
    expect(errors[0]?.message).toContain('NOT_MEMBER');
    expect(offsets(messages)).toEqual([2]);
  });

  it('keeps holding through a temporary failure and asks again after the resume', async () => {
    const { client, conn, messages, errors } = await heldMember();
    conn.send(message(2));
    await recoveryJoin(conn, 0);
    const reconnected = withTimeout(new Promise((resolve) => client.on('reconnect', resolve)), 5000, 'reconnect');
    conn.drop(); // the pending join fails with DISCONNECTED (temporary)
    await reconnected;
    const next = await server.connections.next('the resumed connection');
    next.hold = true;
    const ref = await recoveryJoin(next, 0);
    next.send(encodeReply(ref, { group: 'g', members: [], already: true, offset: 2, recovered: true }));
    next.send(message(1));
    next.send(message(2));
    await waitFor('two messages', () => messages.length >= 2);
    expect(offsets(messages)).toEqual([1, 2]);
    expect(errors).toEqual([]);
  });

  // A store outage answers the recovery UNAVAILABLE (temporary) while the connection stays up: waiting for a resume
  // that never comes would hold the later messages for the whole hold time and end in GAP.
  it('retries a recovery refused with a temporary error while connected: held messages delivered in order, no GAP', async () => {
    const { client, conn, messages, errors } = await heldMember();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    conn.send(message(2));
    conn.send(message(3));
    const first = await recoveryJoin(conn, 0);
    conn.send(encodeErrorReply(first, { code: 'UNAVAILABLE', message: 'the store is unreachable', temporary: true }));
    await roundTrip(conn, client); // the refusal is handled by now
    expect(conn.requests.items.filter((r) => r.op === 'join')).toHaveLength(1);
    vi.advanceTimersByTime(100); // the first retry's delay
    const second = await recoveryJoin(conn, 0);
    conn.send(encodeReply(second, { group: 'g', members: [], already: true, offset: 3, recovered: true }));
    for (const offset of [1, 2, 3]) conn.send(message(offset));
    await waitFor('three messages', () => messages.length >= 3);
    expect(offsets(messages)).toEqual([1, 2, 3]);
    expect(errors).toEqual([]);
    expect(client.lastOffset('g')).toBe(3);
  });

  it('retries temporary refusals with a doubling backoff, and gives the gap up with GAP when the hold time ends', async () => {
    const { client, conn, messages, errors } = await heldMember();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    conn.send(message(2));
    const asked: number[] = [];
    let elapsed = 0;
    for (const delay of [0, 100, 200, 400, 800]) {
      vi.advanceTimersByTime(delay);
      elapsed += delay;
      const ref = await recoveryJoin(conn, 0);
      asked.push(elapsed);
      conn.send(encodeErrorReply(ref, { code: 'UNAVAILABLE', message: 'the store is unreachable', temporary: true }));
      await roundTrip(conn, client);
    }
    expect(asked).toEqual([0, 100, 300, 700, 1500]); // the next one would be at 3100, past the hold time
    expect(errors).toEqual([]);
    vi.advanceTimersByTime(3000 - elapsed); // the hold time (requestTimeoutMs) since the first ask
    await waitFor('the GAP error', () => errors.length > 0);
    expect(errors[0]).toMatchObject({ code: 'GAP', gap: { group: 'g', lost: [{ from: 1, to: 1 }] } });
    expect(errors[0]?.message).toContain('no progress');
    expect(offsets(messages)).toEqual([2]);
    vi.advanceTimersByTime(10_000);
    await roundTrip(conn, client);
    expect(conn.requests.items.filter((r) => r.op === 'join')).toHaveLength(5); // none after giving up
  });

  it('gives the gap up after requestTimeoutMs without progress', async () => {
    const { conn, messages, errors } = await heldMember();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    conn.send(message(3));
    await recoveryJoin(conn, 0);
    await waitFor('the held message', () => vi.getTimerCount() >= 2); // the request's and the hold's timers
    expect(messages).toEqual([]);
    vi.advanceTimersByTime(3000);
    await waitFor('the GAP error', () => errors.some((e) => e.code === 'GAP'));
    expect(errors.find((e) => e.code === 'GAP')).toMatchObject({ gap: { lost: [{ from: 1, to: 2 }] } });
    expect(offsets(messages)).toEqual([3]);
  });

  it('gives the gap up when more than maxHeldMessages are held', async () => {
    const { conn, messages, errors } = await heldMember({ maxHeldMessages: 2 });
    conn.send(message(2));
    await recoveryJoin(conn, 0);
    conn.send(message(3));
    conn.send(message(4));
    await waitFor('the GAP error', () => errors.length > 0);
    expect(errors[0]).toMatchObject({ code: 'GAP', gap: { lost: [{ from: 1, to: 1 }] } });
    expect(offsets(messages)).toEqual([2, 3, 4]);
  });

  it('drops the held messages when the group is left', async () => {
    const { client, conn, messages, errors } = await heldMember();
    conn.send(message(2));
    const joinRef = await recoveryJoin(conn, 0);
    conn.hold = false;
    await client.leave('g');
    conn.send(encodeReply(joinRef, { group: 'g', members: [], already: false, offset: 2, recovered: false }));
    await client.ping();
    expect(messages).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('leaves no timer behind after close(), and delivers nothing held', async () => {
    const { client, conn, messages, errors } = await heldMember();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    conn.send(message(5));
    await recoveryJoin(conn, 0);
    await waitFor('the hold timer', () => vi.getTimerCount() >= 2);
    await client.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(messages).toEqual([]);
    expect(errors).toEqual([]);
  });
});
