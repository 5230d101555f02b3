import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { encodeBatch, encodeErrorReply, encodeMessageEvent, encodeReply } from '@rooms-kit/protocol/server';
import type { Request } from '@rooms-kit/protocol/server';
import { RoomsClient } from '../src/index.js';
import type { BroadcastResult, MessageEvent, RoomsClientError, RoomsClientOptions } from '../src/index.js';
import { FakeServer, withTimeout } from './fake-server.js';
import type { FakeConnection } from './fake-server.js';

// A broadcast without `self` never comes back to its sender as a message: its offset comes in the reply. The client
// counts that offset as seen, so the next message of another member is no gap, and it never asks for (nor delivers)
// its own messages. The reply and the next message may come in either order (a Redis node gets its publish's reply
// and the other nodes' events on two connections; a group with an `interval` holds events but never replies).

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

interface Member {
  client: RoomsClient;
  conn: FakeConnection;
  messages: MessageEvent[];
  errors: RoomsClientError[];
}

function watch(client: RoomsClient, conn: FakeConnection): Member {
  const messages: MessageEvent[] = [];
  const errors: RoomsClientError[] = [];
  client.on('message', (message) => messages.push(message));
  client.on('error', (error) => errors.push(error));
  return { client, conn, messages, errors };
}

/** A client in group `g` (tracked from offset 0) whose requests the test answers by hand. */
async function heldMember(options: Partial<RoomsClientOptions> = {}): Promise<Member> {
  const [client, conn] = await connected(options);
  await client.create({ group: 'g' });
  await conn.requests.next('create');
  conn.hold = true;
  return watch(client, conn);
}

const message = (offset: number, from = 'peer'): string => encodeMessageEvent('g', from, `m${offset}`, offset);
const offsets = (messages: MessageEvent[]): number[] => messages.map((m) => m.offset);
const joinsSince = (conn: FakeConnection): Request[] => conn.requests.items.filter((r) => r.op === 'join' && r.since !== undefined);

/** Sends a broadcast of `g` and waits until the server has it; the test replies with `reply(offset)`. */
async function ownBroadcast(member: Member, self = false): Promise<{ sent: Promise<BroadcastResult>; reply: (offset: number) => string }> {
  const sent = member.client.broadcast('g', 'mine', { self });
  const request = await member.conn.requests.next('the broadcast');
  expect(request).toMatchObject({ op: 'broadcast', group: 'g' });
  return { sent, reply: (offset) => encodeReply(request.ref as number, { recipients: 1, offset }) };
}

/**
 * A round trip through the held connection: everything the server sent before is handled by the client once it
 * resolves. Also checks that `ping` is the client's next request, i.e. it sent nothing (no recovery join) meanwhile.
 */
async function roundTrip(member: Member): Promise<void> {
  const pinged = member.client.ping();
  const request = await member.conn.requests.next('the ping');
  expect(request.op).toBe('ping');
  member.conn.send(encodeReply(request.ref as number, {}));
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

describe('own broadcasts', () => {
  it('two members taking turns: each gets only the other one\'s messages, with no join since and no error', async () => {
    const [aClient, aConn] = await connected();
    const [bClient, bConn] = await connected();
    const a = watch(aClient, aConn);
    const b = watch(bClient, bConn);
    await a.client.create({ group: 'g' });
    await b.client.join('g');
    for (let round = 0; round < 3; round++) {
      await a.client.broadcast('g', `a${round}`);
      await b.client.broadcast('g', `b${round}`);
    }
    await a.client.ping();
    await b.client.ping();
    expect(offsets(a.messages)).toEqual([2, 4, 6]);
    expect(a.messages.every((m) => m.from === b.client.session)).toBe(true);
    expect(offsets(b.messages)).toEqual([1, 3, 5]);
    expect(b.messages.every((m) => m.from === a.client.session)).toBe(true);
    expect(joinsSince(aConn)).toEqual([]);
    expect(joinsSince(bConn)).toEqual([]);
    expect([...a.errors, ...b.errors]).toEqual([]);
    expect(a.client.lastOffset('g')).toBe(6);
    expect(b.client.lastOffset('g')).toBe(6);
  });

  it('reply first: the next member\'s message is delivered at once', async () => {
    const member = await heldMember();
    const { sent, reply } = await ownBroadcast(member);
    member.conn.send(reply(1));
    expect(await withTimeout(sent, 5000, 'broadcast')).toEqual({ recipients: 1, offset: 1 });
    expect(member.client.lastOffset('g')).toBe(1);
    member.conn.send(message(2));
    await waitFor('offset 2', () => member.messages.length > 0);
    await roundTrip(member);
    expect(offsets(member.messages)).toEqual([2]);
    expect(joinsSince(member.conn)).toEqual([]);
    expect(member.errors).toEqual([]);
  });

  it('message first: holds it without a join until the reply says whose the gap was, then delivers it', async () => {
    const member = await heldMember();
    const { sent, reply } = await ownBroadcast(member);
    member.conn.send(message(2)); // offset 1 is the broadcast in flight
    member.conn.send(message(3));
    await roundTrip(member); // 2 and 3 have arrived: held, and no recovery was asked for
    expect(member.messages).toEqual([]);
    member.conn.send(reply(1));
    await withTimeout(sent, 5000, 'broadcast');
    expect(offsets(member.messages)).toEqual([2, 3]); // delivered as the reply is handled, not a round trip later
    await roundTrip(member);
    expect(joinsSince(member.conn)).toEqual([]);
    expect(member.errors).toEqual([]);
    expect(member.client.lastOffset('g')).toBe(3);
  });

  it.each([
    ['reply, message', (reply: string) => encodeBatch([reply, message(2)])],
    ['message, reply', (reply: string) => encodeBatch([message(2), reply])],
  ])('reply and next message in one frame (%s): delivered with no join since', async (_order, frame) => {
    const member = await heldMember();
    const { sent, reply } = await ownBroadcast(member);
    member.conn.send(frame(reply(1)));
    await withTimeout(sent, 5000, 'broadcast');
    await waitFor('offset 2', () => member.messages.length > 0);
    await roundTrip(member);
    expect(offsets(member.messages)).toEqual([2]);
    expect(joinsSince(member.conn)).toEqual([]);
  });

  it('a reply ahead of an earlier member\'s message (held events, as in an interval group) skips its offset later', async () => {
    const member = await heldMember();
    const { sent, reply } = await ownBroadcast(member);
    member.conn.send(reply(2)); // offset 1 (another member's) is still on its way
    await withTimeout(sent, 5000, 'broadcast');
    expect(member.client.lastOffset('g')).toBe(0);
    member.conn.send(encodeBatch([message(1), message(3)]));
    await waitFor('offsets 1 and 3', () => member.messages.length >= 2);
    await roundTrip(member);
    expect(offsets(member.messages)).toEqual([1, 3]);
    expect(member.client.lastOffset('g')).toBe(3);
    expect(joinsSince(member.conn)).toEqual([]);
    expect(member.errors).toEqual([]);
  });

  it('a real loss beside an own offset: one join since once the reply is in, and the replay never delivers the own message', async () => {
    const member = await heldMember();
    const { sent, reply } = await ownBroadcast(member);
    member.conn.send(message(3)); // 1 was lost in flight, 2 is the broadcast in flight
    await roundTrip(member);
    expect(joinsSince(member.conn)).toEqual([]); // the gap may still be the own broadcast's
    member.conn.send(reply(2));
    await withTimeout(sent, 5000, 'broadcast');
    const join = await member.conn.requests.next('the recovery join');
    expect(join).toMatchObject({ op: 'join', group: 'g', since: 0 });
    member.conn.send(encodeReply(join.ref as number, { group: 'g', members: [], already: true, offset: 3, recovered: true }));
    member.conn.send(message(1));
    member.conn.send(message(2, member.client.session ?? 'me')); // the replay holds the own message too
    member.conn.send(message(3));
    await waitFor('offsets 1 and 3', () => member.messages.length >= 2);
    await roundTrip(member);
    expect(offsets(member.messages)).toEqual([1, 3]);
    expect(member.errors).toEqual([]);
    expect(member.client.lastOffset('g')).toBe(3);
  });

  it('a broadcast that fails releases the wait: the gap is then recovered', async () => {
    const member = await heldMember();
    const broadcast = member.client.broadcast('g', 'mine');
    const request = await member.conn.requests.next('the broadcast');
    member.conn.send(message(2));
    await roundTrip(member);
    member.conn.send(encodeErrorReply(request.ref as number, { code: 'RATE_LIMITED', message: 'slow down', temporary: true }));
    await expect(withTimeout(broadcast, 5000, 'broadcast')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const join = await member.conn.requests.next('the recovery join');
    expect(join).toMatchObject({ op: 'join', group: 'g', since: 0 });
    member.conn.send(encodeReply(join.ref as number, { group: 'g', members: [], already: true, offset: 2, recovered: true }));
    member.conn.send(message(1));
    member.conn.send(message(2));
    await waitFor('offsets 1 and 2', () => member.messages.length >= 2);
    expect(offsets(member.messages)).toEqual([1, 2]);
    expect(member.errors).toEqual([]);
  });

  // The server runs the join (history read and replay included) before the broadcast: its replay stops before the
  // broadcast's offset, whose reply comes after it.
  it('a broadcast sent after the gap was seen does not delay its recovery', async () => {
    const member = await heldMember();
    member.conn.send(message(2));
    const join = await member.conn.requests.next('the recovery join');
    expect(join).toMatchObject({ op: 'join', group: 'g', since: 0 });
    const { sent, reply } = await ownBroadcast(member); // offset 3 at the earliest: the server published 2 before
    member.conn.send(encodeReply(join.ref as number, { group: 'g', members: [], already: true, offset: 2, recovered: true }));
    member.conn.send(message(1));
    member.conn.send(message(2));
    member.conn.send(reply(3));
    await withTimeout(sent, 5000, 'broadcast');
    member.conn.send(message(4));
    await waitFor('offsets 1, 2 and 4', () => member.messages.length >= 3);
    await roundTrip(member);
    expect(offsets(member.messages)).toEqual([1, 2, 4]);
    expect(joinsSince(member.conn)).toHaveLength(1);
    expect(member.errors).toEqual([]);
  });

  it('GAP names only the offsets really lost, not the own ones', async () => {
    const member = await heldMember();
    const { sent, reply } = await ownBroadcast(member);
    member.conn.send(reply(2));
    await withTimeout(sent, 5000, 'broadcast');
    member.conn.send(message(4)); // 1 and 3 lost, 2 own
    const join = await member.conn.requests.next('the recovery join');
    expect(join).toMatchObject({ op: 'join', group: 'g', since: 0 });
    member.conn.send(encodeReply(join.ref as number, { group: 'g', members: [], already: true, offset: 4, recovered: false }));
    await waitFor('the GAP error', () => member.errors.length > 0);
    expect(member.errors[0]).toMatchObject({ code: 'GAP', gap: { group: 'g', lost: [{ from: 1, to: 1 }, { from: 3, to: 3 }] } });
    expect(offsets(member.messages)).toEqual([4]);
    expect(member.client.lastOffset('g')).toBe(4);
  });

  it('with self:true the own message is an event like any other: delivered, not skipped', async () => {
    const member = await heldMember();
    const { sent, reply } = await ownBroadcast(member, true);
    member.conn.send(message(1, member.client.session ?? 'me')); // the server sends the event before the reply
    await waitFor('offset 1', () => member.messages.length > 0);
    member.conn.send(reply(1));
    await withTimeout(sent, 5000, 'broadcast');
    member.conn.send(message(2));
    await waitFor('offset 2', () => member.messages.length >= 2);
    await roundTrip(member);
    expect(offsets(member.messages)).toEqual([1, 2]);
    expect(joinsSince(member.conn)).toEqual([]);
  });

  it('a broadcast cut by a drop releases the wait: the gap is recovered after the resume', async () => {
    const member = await heldMember();
    const broadcast = member.client.broadcast('g', 'mine');
    await member.conn.requests.next('the broadcast');
    member.conn.send(message(2));
    await roundTrip(member);
    const reconnected = withTimeout(new Promise((resolve) => member.client.on('reconnect', resolve)), 5000, 'reconnect');
    member.conn.drop();
    await expect(withTimeout(broadcast, 5000, 'broadcast')).rejects.toMatchObject({ code: 'DISCONNECTED' });
    await reconnected;
    const next = await server.connections.next('the resumed connection');
    next.hold = true;
    const join = await next.requests.next('the recovery join');
    expect(join).toMatchObject({ op: 'join', group: 'g', since: 0 });
    next.send(encodeReply(join.ref as number, { group: 'g', members: [], already: true, offset: 2, recovered: true }));
    next.send(message(1));
    next.send(message(2));
    await waitFor('offsets 1 and 2', () => member.messages.length >= 2);
    expect(offsets(member.messages)).toEqual([1, 2]);
    expect(member.errors).toEqual([]);
  });

  it('a broadcast that cannot be encoded leaves nothing to wait for: a later gap is asked for at once', async () => {
    const member = await heldMember();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => member.client.broadcast('g', cyclic)).toThrow(TypeError);
    member.conn.send(message(2));
    expect(await member.conn.requests.next('the recovery join')).toMatchObject({ op: 'join', group: 'g', since: 0 });
  });
});
