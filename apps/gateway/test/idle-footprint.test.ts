import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { Gateway } from '../src/gateway.js';
import { cleanup, eventually, startTestGateway } from './support/harness.js';

afterEach(cleanup);

/** White-box: the per-connection state that is created on first use (null while the connection is idle). */
interface LazyState {
  memberships: Map<string, unknown> | null;
  replayPending: Map<string, number> | null;
  endOffsets: Map<string, number> | null;
  parked: unknown;
  tasks: unknown;
  limiter: unknown;
  violations: unknown;
  settledPromise: Promise<void> | null;
  ws: WebSocket;
  settled: Promise<void>;
}

/** White-box: the connection holding `session`. */
function connectionOf(gateway: Gateway, session: string): LazyState {
  const holders = (gateway as unknown as { holders: Map<string, LazyState> }).holders;
  const connection = holders.get(session);
  if (connection === undefined) throw new Error(`no connection holds ${session}`);
  return connection;
}

const SOCKET_EVENTS = ['message', 'pong', 'error', 'close'] as const;

describe('idle connection footprint', () => {
  it('an idle connection has none of the state a client\'s requests create', async () => {
    const gw = await startTestGateway();
    const client = await gw.connect();
    const connection = connectionOf(gw.gateway, client.session);
    expect(connection.memberships).toBeNull();
    expect(connection.replayPending).toBeNull();
    expect(connection.endOffsets).toBeNull();
    expect(connection.parked).toBeNull();
    expect(connection.tasks).toBeNull();
    expect(connection.limiter).toBeNull();
    expect(connection.violations).toBeNull();
    expect(connection.settledPromise).toBeNull();
  });

  it('every socket has one listener per event, the same functions for all sockets (no closures per connection)', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    const wsA = connectionOf(gw.gateway, a.session).ws;
    const wsB = connectionOf(gw.gateway, b.session).ws;
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
    expect(b.events('message').map((m) => m.offset)).toEqual([1, 2, 3]);
    const connection = connectionOf(gw.gateway, b.session);
    expect([...(connection.memberships?.keys() ?? [])]).toEqual(['g']);
    expect(connection.tasks).toBeNull();
    expect(connection.replayPending).toBeNull();
    expect(connection.parked).toBeNull();
    // The rate limit applies from the first frame on.
    expect(connection.limiter).not.toBeNull();
    await b.ok('leave', { group: 'g' });
    expect(connection.memberships).toBeNull();
  });

  it('settled, first asked after the session was settled, resolves (and is the same promise each time)', async () => {
    const gw = await startTestGateway();
    const client = await gw.connect();
    const connection = connectionOf(gw.gateway, client.session);
    await client.close(1000);
    await eventually(() => !gw.gateway.node.hasSession(client.session), 'the session to end');
    await eventually(() => (gw.gateway as unknown as { holders: Map<string, unknown> }).holders.size === 0, 'the release');
    expect(connection.settled).toBe(connection.settled);
    await expect(connection.settled).resolves.toBeUndefined();
  });
});
