import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { Gateway } from '../src/gateway.js';
import { cleanup, eventually, startTestGateway } from './support/harness.js';

afterEach(cleanup);

/** White-box: the per-connection state that is created on first use (null while the connection is idle). */
interface LazyState {
  outbox: { memberships: Map<string, unknown> | null; replayPending: Map<string, number> | null; parked: unknown };
  endOffsets: Map<string, number> | null;
  /** The request queue: it exists only while the handshake or a request runs or waits. */
  requests: { waiting: unknown } | null;
  /** The request intake, which holds the rate limiter and the invalid-request counter. */
  intake: { limiter: unknown; violations: unknown } | null;
  settledPromise: Promise<void> | null;
  transport: { ws: WebSocket };
  settled: Promise<void>;
}

/** White-box: the session registry (one entry per session until it was settled). */
function registryOf(gateway: Gateway): { get(id: string): LazyState | undefined; size: number } {
  return (gateway as unknown as { registry: { get(id: string): LazyState | undefined; size: number } }).registry;
}

/** White-box: the client session `session`. */
function connectionOf(gateway: Gateway, session: string): LazyState {
  const connection = registryOf(gateway).get(session);
  if (connection === undefined) throw new Error(`no session ${session} is registered`);
  return connection;
}

const SOCKET_EVENTS = ['message', 'pong', 'error', 'close'] as const;

describe('idle connection footprint', () => {
  it('an idle connection has none of the state a client\'s requests create', async () => {
    const gw = await startTestGateway();
    const client = await gw.connect();
    const connection = connectionOf(gw.gateway, client.session);
    expect(connection.outbox.memberships).toBeNull();
    expect(connection.outbox.replayPending).toBeNull();
    expect(connection.endOffsets).toBeNull();
    expect(connection.outbox.parked).toBeNull();
    // No request queue (the handshake's was dropped once it was done), so nothing waiting either.
    expect(connection.requests).toBeNull();
    // Neither a rate limiter nor an invalid-request counter: the intake holding them does not exist yet.
    expect(connection.intake).toBeNull();
    expect(connection.settledPromise).toBeNull();
  });

  it('every socket has one listener per event, the same functions for all sockets (no closures per connection)', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    const wsA = connectionOf(gw.gateway, a.session).transport.ws;
    const wsB = connectionOf(gw.gateway, b.session).transport.ws;
    expect(wsA).not.toBe(wsB);
    for (const event of SOCKET_EVENTS) {
      expect(wsA.listeners(event)).toHaveLength(1);
      expect(wsA.listeners(event)).toEqual(wsB.listeners(event));
    }
  });

  it('what requests create is dropped once done: memberships after the leave, queues and replay state after a replay', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '100' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    for (let i = 0; i < 3; i++) await a.ok('broadcast', { group: 'g', data: i });
    // Pipelined: the later requests wait in the queue behind the first.
    const pipelined = [b.request('join', { group: 'g', since: 0 }), b.request('ping'), b.request('ping')];
    await Promise.all(pipelined);
    const connection = connectionOf(gw.gateway, b.session);
    expect(b.events('message').map((m) => m.offset)).toEqual([1, 2, 3]);
    expect([...(connection.outbox.memberships?.keys() ?? [])]).toEqual(['g']);
    expect(connection.requests).toBeNull();
    expect(connection.outbox.replayPending).toBeNull();
    expect(connection.outbox.parked).toBeNull();
    // The rate limit applies from the first frame on; no invalid request came, so no violation counter.
    expect(connection.intake?.limiter).toBeDefined();
    expect(connection.intake?.violations).toBeNull();
    await b.ok('leave', { group: 'g' });
    expect(connection.outbox.memberships).toBeNull();
  });

  it('settled, first asked after the session was settled, resolves (and is the same promise each time)', async () => {
    const gw = await startTestGateway();
    const client = await gw.connect();
    const connection = connectionOf(gw.gateway, client.session);
    await client.close(1000);
    await eventually(() => !gw.gateway.node.hasSession(client.session), 'the session to end');
    await eventually(() => registryOf(gw.gateway).size === 0, 'the release');
    expect(connection.settled).toBe(connection.settled);
    await expect(connection.settled).resolves.toBeUndefined();
  });
});
