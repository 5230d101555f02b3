import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RoomsClient, RoomsClientError } from '@rooms-kit/client';
import type { MessageEvent, WebSocketLike } from '@rooms-kit/client';
import { waitUntil } from '@rooms-kit/testing';
import { GatewayProcess } from '../src/index.js';
import { startCluster } from './cluster-harness.js';

// The SDK against a real gateway (its own suite uses a fake server): requests, events, errors, and a network drop
// through a TCP proxy (no close frame) that the SDK survives by resuming and recovering what was lost in flight, with
// nothing lost or repeated.

/** A TCP proxy to the gateway whose connections the test can cut, like a network failure. */
class CuttableProxy {
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(target: number): Promise<CuttableProxy> {
    let proxy: CuttableProxy | null = null;
    const server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      const pair = { client, upstream };
      proxy?.pairs.add(pair);
      for (const socket of [client, upstream]) {
        proxy?.sockets.add(socket);
        socket.on('close', () => {
          proxy?.sockets.delete(socket);
          proxy?.pairs.delete(pair);
        });
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    proxy = new CuttableProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const address = this.server.address();
    return `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  /** Destroys every connection through the proxy (no close frame reaches either side). */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /**
   * Destroys the client side of every connection but keeps the gateway side open, swallowing what the gateway
   * writes: the gateway does not notice, so everything it sends until the client resumes is written and lost.
   */
  blackhole(): void {
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      upstream.on('data', () => undefined);
      upstream.resume();
      client.destroy();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A WebSocket (over `ws`) that records the frames it sends and loses the `message` events whose offset is in
 * `lose` (once each), as if they were lost in flight while the connection stayed up.
 */
class LossyWebSocket implements WebSocketLike {
  static readonly sent: string[] = [];
  static readonly lose = new Set<number>();
  private readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url);
  }

  get readyState(): number {
    return this.ws.readyState;
  }
  get binaryType(): string {
    return this.ws.binaryType;
  }
  set binaryType(type: string) {
    this.ws.binaryType = type as WebSocket['binaryType'];
  }
  set onopen(handler: ((event: never) => void) | null) {
    this.ws.onopen = handler as WebSocket['onopen'];
  }
  set onclose(handler: ((event: never) => void) | null) {
    this.ws.onclose = handler as WebSocket['onclose'];
  }
  set onerror(handler: ((event: never) => void) | null) {
    this.ws.onerror = handler as WebSocket['onerror'];
  }
  set onmessage(handler: ((event: never) => void) | null) {
    this.ws.onmessage =
      handler === null
        ? null
        : (event) => {
            const parsed = JSON.parse(String(event.data)) as unknown;
            const kept = (Array.isArray(parsed) ? parsed : [parsed]).filter((item: { ev?: string; offset?: number }) => {
              return item.ev !== 'message' || item.offset === undefined || !LossyWebSocket.lose.delete(item.offset);
            });
            if (kept.length > 0) (handler as (event: { data: string }) => void)({ data: JSON.stringify(kept) });
          };
  }
  get onopen(): null {
    return null;
  }
  get onclose(): null {
    return null;
  }
  get onerror(): null {
    return null;
  }
  get onmessage(): null {
    return null;
  }

  send(data: string): void {
    LossyWebSocket.sent.push(data);
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  LossyWebSocket.sent.length = 0;
  LossyWebSocket.lose.clear();
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Setup {
  proxy: CuttableProxy;
  /** A connected client, through the proxy or (`direct`) straight to the gateway. */
  client: (options?: { direct?: boolean }) => Promise<RoomsClient>;
}

async function setup(): Promise<Setup> {
  // A real gateway process in embedded mode (no Redis).
  const gateway = await GatewayProcess.start({ env: { ROOMS_LOG_LEVEL: 'silent' } });
  cleanups.push(() => gateway.kill());
  const proxy = await CuttableProxy.start(gateway.port);
  cleanups.push(() => proxy.close());
  return {
    proxy,
    client: async ({ direct = false } = {}) => {
      const url = direct ? `ws://127.0.0.1:${gateway.port}` : proxy.url;
      const client = new RoomsClient({ url, WebSocket: LossyWebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 100 } });
      cleanups.push(() => client.close());
      await client.connect();
      return client;
    },
  };
}

/** The `join`s with `since` the clients sent (the SDK's gap recoveries). */
function recoveryJoins(): { group: string; since: number }[] {
  return LossyWebSocket.sent
    .map((frame) => JSON.parse(frame) as { op?: string; group: string; since?: number })
    .filter((request) => request.op === 'join' && request.since !== undefined)
    .map(({ group, since }) => ({ group, since: since as number }));
}

/** A client straight to `url`, recording what it sends (closed by the cleanup). */
async function directClient(url: string): Promise<RoomsClient> {
  const client = new RoomsClient({ url, WebSocket: LossyWebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 100 } });
  cleanups.push(() => client.close());
  await client.connect();
  return client;
}

/**
 * Two members broadcasting without `self`, first taking turns, then in bursts sent at once (so that a reply and the
 * other member's next message can cross): each must get exactly the other one's messages, in offset order, and never
 * its own, with no `join since` (its own offsets are no gap) and no error.
 */
async function expectNoEcho(alice: RoomsClient, bob: RoomsClient): Promise<void> {
  await alice.create({ group: 'duo' });
  await bob.join('duo');
  const members = [alice, bob].map((client) => {
    const got: MessageEvent[] = [];
    const errors: RoomsClientError[] = [];
    client.on('message', (m) => got.push(m));
    client.on('error', (error) => errors.push(error));
    return { client, got, errors, sent: [] as number[] };
  });
  const send = async (member: (typeof members)[number], data: string): Promise<void> => {
    member.sent.push((await member.client.broadcast('duo', data)).offset);
  };
  const [a, b] = members as [(typeof members)[number], (typeof members)[number]];
  for (let turn = 0; turn < 5; turn++) {
    await send(a, `a${turn}`);
    await send(b, `b${turn}`);
  }
  for (let burst = 0; burst < 4; burst++) {
    await Promise.all(Array.from({ length: 40 }, (_, i) => [send(a, `a${burst}.${i}`), send(b, `b${burst}.${i}`)]).flat());
  }
  const total = a.sent.length + b.sent.length;
  await waitUntil('each member to get the other one\'s messages', () => a.got.length >= b.sent.length && b.got.length >= a.sent.length, 10_000);
  await Promise.all([alice.ping(), bob.ping()]); // anything repeated or extra would have arrived before its reply
  for (const [self, other] of [[a, b], [b, a]] as const) {
    expect(self.got.map((m) => m.offset)).toEqual([...other.sent].sort((x, y) => x - y));
    expect(self.got.every((m) => m.from === other.client.session)).toBe(true);
    expect(self.errors).toEqual([]);
    expect(self.client.lastOffset('duo')).toBe(total);
  }
  expect([...a.sent, ...b.sent].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(recoveryJoins()).toEqual([]);
}

describe('the SDK on a real gateway', () => {
  it('creates, joins, broadcasts and receives events; errors reject with the catalog code', async () => {
    const { client } = await setup();
    const alice = await client();
    const bob = await client();
    await alice.create({ group: 'lobby', data: { nick: 'alice' } });
    const joinedSeen = new Promise((resolve) => alice.on('joined', resolve));
    const joined = await bob.join('lobby', { data: { nick: 'bob' } });
    expect(joined.members.map((m) => m.id).sort()).toEqual([alice.session, bob.session].sort());
    expect(await joinedSeen).toMatchObject({ group: 'lobby', member: { id: bob.session, data: { nick: 'bob' } } });
    const received = new Promise<MessageEvent>((resolve) => bob.on('message', resolve));
    expect(await alice.broadcast('lobby', { text: 'hi' })).toEqual({ recipients: 1, offset: 1 });
    expect(await received).toMatchObject({ group: 'lobby', from: alice.session, data: { text: 'hi' }, offset: 1 });
    expect(await bob.groups()).toEqual({ groups: ['lobby'], latest: 'lobby' });
    const refused = await alice.create({ group: 'lobby' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RoomsClientError);
    expect(refused).toMatchObject({ code: 'GROUP_EXISTS', temporary: false });
    await expect(bob.leave('elsewhere')).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
  });

  // Messages broadcast right after the cut may be written to the dying connection: the resume replays only what
  // came after the last one written, and the SDK recovers the rest with join `since` when it sees the gap. With
  // `blackhole` the gateway does not notice the drop until the resume, so every message in between is lost in flight.
  it.each(['cut', 'blackhole'] as const)(
    'survives a network drop (%s): resumes its session and delivers every offset, in order, once',
    async (mode) => {
      const { client, proxy } = await setup();
      const sender = await client({ direct: true });
      const reader = await client();
      await sender.create({ group: 'news' });
      await reader.join('news');
      const got: number[] = [];
      const errors: RoomsClientError[] = [];
      reader.on('message', (m) => got.push(m.offset));
      reader.on('error', (error) => errors.push(error));
      for (let i = 1; i <= 3; i++) await sender.broadcast('news', i);
      await waitUntil('the first three messages', () => got.length >= 3, 5000);

      const reconnected = new Promise((resolve) => reader.on('reconnect', resolve));
      const session = reader.session;
      if (mode === 'cut') proxy.cut();
      else proxy.blackhole();
      await Promise.all([4, 5, 6, 7, 8].map((i) => sender.broadcast('news', i)));
      await expect(reconnected).resolves.toMatchObject({ resumed: true });
      expect(reader.session).toBe(session);
      for (let i = 9; i <= 12; i++) await sender.broadcast('news', i);
      await waitUntil('twelve messages', () => got.length >= 12, 5000);
      await reader.ping(); // anything repeated or extra would have arrived before its reply
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(errors).toEqual([]);
      for (const join of recoveryJoins()) expect(join).toEqual({ group: 'news', since: 3 }); // a recovery asks from the reader's last offset
      expect((await reader.groups()).groups).toEqual(['news']);
    },
  );

  it('recovers messages lost in flight on a live connection with one join since, in order, once', async () => {
    const { client } = await setup();
    const sender = await client({ direct: true });
    const reader = await client({ direct: true });
    await sender.create({ group: 'news' });
    await reader.join('news');
    const got: number[] = [];
    const errors: RoomsClientError[] = [];
    reader.on('message', (m) => got.push(m.offset));
    reader.on('error', (error) => errors.push(error));
    LossyWebSocket.lose.add(2).add(3);
    for (let i = 1; i <= 6; i++) await sender.broadcast('news', i);
    await waitUntil('six messages', () => got.length >= 6, 5000);
    await reader.ping();
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(LossyWebSocket.lose.size).toBe(0); // 2 and 3 were indeed lost the first time
    expect(recoveryJoins()).toEqual([{ group: 'news', since: 1 }]);
    expect(errors).toEqual([]);
  });

  it('close() ends the session: the other members see left with reason disconnect', async () => {
    const { client } = await setup();
    const a = await client();
    const b = await client();
    await a.create({ group: 'g' });
    await b.join('g');
    const left = new Promise((resolve) => a.on('left', resolve));
    await b.close();
    expect(await left).toMatchObject({ group: 'g', reason: 'disconnect' });
  });

  it('a sender never gets its own broadcasts back, and asks for no join since', async () => {
    const gateway = await GatewayProcess.start({ env: { ROOMS_LOG_LEVEL: 'silent', ROOMS_RATE_LIMIT: '10000' } });
    cleanups.push(() => gateway.kill());
    await expectNoEcho(await directClient(gateway.wsUrl), await directClient(gateway.wsUrl));
  });

  it('two cluster nodes on Redis: a sender never gets its own broadcasts back, and asks for no join since', async () => {
    const { nodes } = await startCluster(2, { ROOMS_RATE_LIMIT: '10000' });
    const [one, two] = nodes as [GatewayProcess, GatewayProcess];
    await expectNoEcho(await directClient(one.wsUrl), await directClient(two.wsUrl));
  });
});
