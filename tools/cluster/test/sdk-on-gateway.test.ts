import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RoomsClient, RoomsClientError } from '@rooms/client';
import type { MessageEvent } from '@rooms/client';
import { waitUntil } from '@rooms/testing';
import { GatewayProcess } from '../src/index.js';

// The SDK against a real gateway (its own suite uses a fake server): requests, events, errors, and a network drop
// through a TCP proxy (no close frame) that the SDK survives by resuming, with nothing lost or repeated.

/** A TCP proxy to the gateway whose connections the test can cut, like a network failure. */
class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {}

  static async start(target: number): Promise<CuttableProxy> {
    let proxy: CuttableProxy | null = null;
    const server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        proxy?.sockets.add(socket);
        socket.on('close', () => proxy?.sockets.delete(socket));
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

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(): Promise<{ proxy: CuttableProxy; client: () => Promise<RoomsClient> }> {
  // A real gateway process in embedded mode (no Redis).
  const gateway = await GatewayProcess.start({ env: { ROOMS_LOG_LEVEL: 'silent' } });
  cleanups.push(() => gateway.kill());
  const proxy = await CuttableProxy.start(gateway.port);
  cleanups.push(() => proxy.close());
  return {
    proxy,
    client: async () => {
      const client = new RoomsClient({ url: proxy.url, WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 100 } });
      cleanups.push(() => client.close());
      await client.connect();
      return client;
    },
  };
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

  it('survives a network drop: resumes its session and gets what it missed, in order, once', async () => {
    const { client, proxy } = await setup();
    const sender = await client();
    const reader = await client();
    await sender.create({ group: 'news' });
    await reader.join('news');
    const got: number[] = [];
    reader.on('message', (m) => got.push(m.offset));
    const reconnected = new Promise((resolve) => reader.on('reconnect', resolve));
    const session = reader.session;
    // Cut only the reader's path: cut everything, then wait for the sender to be back too.
    proxy.cut();
    await expect(reconnected).resolves.toMatchObject({ resumed: true });
    expect(reader.session).toBe(session);
    await waitUntil('the sender to be connected again', () => sender.state === 'open', 5000);
    for (let i = 0; i < 5; i++) await sender.broadcast('news', i);
    await waitUntil('five messages', () => got.length >= 5, 5000);
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect((await reader.groups()).groups).toEqual(['news']);
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
});
