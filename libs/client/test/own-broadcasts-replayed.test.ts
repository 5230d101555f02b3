import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { RoomsClient } from '../src/index.js';
import type { BroadcastResult, MessageEvent, RoomsClientError } from '../src/index.js';
import { FakeServer, withTimeout } from './fake-server.js';
import type { FakeConnection } from './fake-server.js';

// A broadcast whose reply never arrives (the node holding the session died or drained first) was published, but the
// client never learnt its offset. A resume replay or a join `since` then carries it, with the client's own session as
// `from`: it fills the group's offset sequence (no gap) but is not handed to the application, unless it was sent with
// `self:true`, whose message the application gets exactly once, as on the live path.

let server: FakeServer;
let clients: RoomsClient[];

beforeEach(async () => {
  server = await FakeServer.start();
  clients = [];
});

afterEach(async () => {
  await Promise.all(clients.map((client) => withTimeout(client.close(), 5000, 'client close')));
  await Promise.all([...server.open].map((conn) => withTimeout(conn.closed, 5000, 'server-side close')));
  expect(server.open.size).toBe(0);
  await server.stop();
});

interface Member {
  client: RoomsClient;
  /** The member's current server-side connection. */
  conn: FakeConnection;
  messages: MessageEvent[];
  errors: RoomsClientError[];
}

async function member(): Promise<Member> {
  const client = new RoomsClient({ url: server.url, WebSocket, reconnect: { minDelayMs: 5, maxDelayMs: 20 }, requestTimeoutMs: 3000 });
  clients.push(client);
  const messages: MessageEvent[] = [];
  const errors: RoomsClientError[] = [];
  client.on('message', (message) => messages.push(message));
  client.on('error', (error) => errors.push(error));
  await withTimeout(client.connect(), 5000, 'connect');
  return { client, conn: await server.connections.next('connection'), messages, errors };
}

/** Two members of group `g`, a (who created it) and b. */
async function pair(): Promise<[Member, Member]> {
  const a = await member();
  const b = await member();
  await a.client.create({ group: 'g' });
  await b.client.join('g');
  return [a, b];
}

/** A broadcast of a whose reply is lost: the server publishes it, the client never learns its offset. */
async function unacknowledged(a: Member, data: string, self: boolean): Promise<{ sent: Promise<BroadcastResult> }> {
  a.conn.muteReplies = true;
  const sent = a.client.broadcast('g', data, { self });
  const count = a.conn.requests.items.length;
  await waitFor(`the server to run ${data}`, () => a.conn.requests.items.length > count);
  return { sent }; // wrapped: an async function returning the promise itself would wait for it
}

/** Drops a's connection (no close frame, as when its node is SIGKILLed) and waits for the resume. */
async function dropAndResume(a: Member, cut: Promise<BroadcastResult>[]): Promise<void> {
  const reconnected = withTimeout(new Promise((resolve) => a.client.on('reconnect', resolve)), 5000, 'reconnect');
  a.conn.drop();
  for (const sent of cut) await expect(withTimeout(sent, 5000, 'broadcast')).rejects.toMatchObject({ code: 'DISCONNECTED' });
  expect(await reconnected).toMatchObject({ resumed: true });
  a.conn = await server.connections.next('the resumed connection');
}

const offsets = (messages: MessageEvent[]): number[] => messages.map((m) => m.offset);
const joinsSince = (conn: FakeConnection): number => conn.requests.items.filter((r) => r.op === 'join' && r.since !== undefined).length;

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

describe('own broadcasts replayed after a resume or a recovery', () => {
  it('the resume replay holds the own unacknowledged broadcast: not delivered, no gap, later offsets in order', async () => {
    const [a, b] = await pair();
    const { sent } = await unacknowledged(a, 'mine', false); // offset 1
    await waitFor('b to get offset 1', () => b.messages.length > 0);
    await dropAndResume(a, [sent]); // the replay right after the welcome: offset 1, from a's own session
    await b.client.broadcast('g', 'b2');
    await b.client.broadcast('g', 'b3');
    await a.client.ping(); // everything the server sent a before the reply is handled
    expect(offsets(a.messages)).toEqual([2, 3]);
    expect(a.messages.every((m) => m.from === b.client.session)).toBe(true);
    expect(a.errors).toEqual([]);
    expect(joinsSince(a.conn)).toBe(0);
    expect(a.client.lastOffset('g')).toBe(3);
  });

  it('a join since whose replay holds the own unacknowledged broadcast: it fills the gap, undelivered', async () => {
    const [a, b] = await pair();
    const { sent } = await unacknowledged(a, 'mine', false); // offset 1
    a.conn.lose = true;
    await b.client.broadcast('g', 'b2'); // written to a's socket, lost in flight: the resume does not replay it
    await dropAndResume(a, [sent]);
    await b.client.broadcast('g', 'b3'); // a sees 3 after 0: asks join since 0, replayed 1 (own), 2, 3
    await waitFor('offsets 2 and 3', () => a.messages.length >= 2);
    await a.client.ping();
    expect(offsets(a.messages)).toEqual([2, 3]);
    expect(a.errors).toEqual([]);
    expect(joinsSince(a.conn)).toBe(1);
    expect(a.client.lastOffset('g')).toBe(3);
  });

  it('with self:true the replayed own message is delivered, once', async () => {
    const [a, b] = await pair();
    a.conn.lose = true; // the live event of the own broadcast is lost as well
    const { sent } = await unacknowledged(a, 'mine', true); // offset 1
    await b.client.broadcast('g', 'b2');
    server.replayOverlap = 2; // the resume replays both: 1 (own) and 2
    await dropAndResume(a, [sent]);
    await b.client.broadcast('g', 'b3');
    await waitFor('offsets 1 to 3', () => a.messages.length >= 3);
    await a.client.ping();
    expect(offsets(a.messages)).toEqual([1, 2, 3]);
    expect(a.messages[0]).toMatchObject({ from: a.client.session, data: 'mine' });
    expect(a.errors).toEqual([]);
  });

  it('self:true and without self, both unacknowledged: only the self:true one is delivered', async () => {
    const [a, b] = await pair();
    a.conn.lose = true;
    const { sent: quiet } = await unacknowledged(a, 'quiet', false); // offset 1
    const { sent: loud } = await unacknowledged(a, 'loud', true); // offset 2
    const { sent: after } = await unacknowledged(a, 'after', false); // offset 3
    await dropAndResume(a, [quiet, loud, after]);
    // The resume replays 3 (1 was never written to a, 2 was lost in flight): a asks join since 0, replayed 1, 2, 3.
    await b.client.broadcast('g', 'b4');
    await waitFor('offsets 2 and 4', () => a.messages.length >= 2);
    await a.client.ping();
    expect(a.messages.map((m) => m.data)).toEqual(['loud', 'b4']);
    expect(offsets(a.messages)).toEqual([2, 4]);
    expect(a.errors).toEqual([]);
    expect(a.client.lastOffset('g')).toBe(4);
  });

  it('a self:true broadcast delivered live before the drop is not delivered again by the replay', async () => {
    const [a, b] = await pair();
    const { sent } = await unacknowledged(a, 'mine', true); // offset 1, its event reaches a, its reply does not
    await waitFor('offset 1', () => a.messages.length > 0);
    server.replayOverlap = 1;
    await dropAndResume(a, [sent]);
    await b.client.broadcast('g', 'b2');
    await a.client.ping();
    expect(offsets(a.messages)).toEqual([1, 2]);
    expect(a.errors).toEqual([]);
  });
});
