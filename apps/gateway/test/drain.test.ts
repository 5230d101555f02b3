import { afterEach, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { cleanup, startTestGateway, within } from './support/harness.js';
import { upgradeStatus } from '@rooms-kit/testing';
import { Gateway } from '../src/gateway.js';
import { loadConfig } from '../src/config.js';

afterEach(cleanup);

describe('Drain and shutdown', () => {
  it('drain: clients closed with 1001, sessions ended (embedded), readyz 503, no new connections, NODE_DRAINING', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    const closedA = a.closedWithin();
    const closedB = b.closedWithin();
    await gw.gateway.drain();
    expect((await closedA).code).toBe(1001);
    expect((await closedB).code).toBe(1001);
    // Embedded: nobody can resume these sessions elsewhere, so they have ended.
    expect(gw.gateway.node.hasSession(a.session)).toBe(false);
    expect(gw.gateway.node.stats().sessions).toBe(0);
    expect((await fetch(`${gw.http}/readyz`)).status).toBe(503);
    expect((await fetch(`${gw.http}/healthz`)).status).toBe(200);
    expect(await upgradeStatus(gw.url)).toBe(503);
    await expect(gw.gateway.node.create(null, { group: 'x', allowEmpty: true, join: false })).rejects.toMatchObject({ code: 'NODE_DRAINING' });
    await gw.gateway.drain();
  });

  it('readyz is 503 while starting', async () => {
    const gateway = new Gateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', ROOMS_LOG_LEVEL: 'silent' }));
    expect(gateway.ready).toBe(false);
    const starting = gateway.start();
    expect(gateway.ready).toBe(false);
    await starting;
    expect(gateway.ready).toBe(true);
    await gateway.close();
    expect(gateway.ready).toBe(false);
  });

  it('close() is idempotent and leaves no server, socket or timer behind', async () => {
    const before = countResources();
    const gw = await startTestGateway({ ROOMS_HEARTBEAT_MS: '20' });
    const a = await gw.connect();
    await a.ok('create', { group: 'g', interval: 50 });
    await a.ok('broadcast', { group: 'g', data: 1, self: true });
    const gatewaySide = gw.serverSocketOf(a);
    const closing = gw.gateway.close();
    await Promise.all([closing, gw.gateway.close()]);
    await a.closedWithin();
    await within(socketClosed(gatewaySide), "the gateway's end of the connection to close");
    expect(gatewaySide.destroyed).toBe(true);
    expect(gw.gateway.connectionCount).toBe(0);
    // Counted before the fetch below, whose refused connect is still being torn down when it rejects.
    const after = countResources();
    expect(after.TCPServerWrap ?? 0).toBeLessThanOrEqual(before.TCPServerWrap ?? 0);
    // Both ends of the client's connection are in this process: neither may be left.
    expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    await expect(fetch(`${gw.http}/healthz`)).rejects.toThrow();
  });

  it('a gateway whose port is taken fails to start and cleans up', async () => {
    const gw = await startTestGateway();
    const second = new Gateway(loadConfig({ PORT: String(gw.port), HOST: '127.0.0.1', ROOMS_LOG_LEVEL: 'silent' }));
    await expect(second.start()).rejects.toThrow();
    await second.close();
  });
});

function socketClosed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

function countResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}
