import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeManager, RoomsError } from '@rooms-kit/core';
import type { Backend, DeliveryPort } from '@rooms-kit/core';
import { RedisServer, waitUntil } from '@rooms-kit/testing';
import { RedisBackend, RedisKeys } from '../src/index.js';
import { HeldReconnects } from '@rooms-kit/core';
import { nodeId } from './support/nodes.js';

const server = new RedisServer();
const managers: NodeManager[] = [];
let test = 0;

beforeAll(() => server.start(), 90_000);
afterAll(() => server.stop());
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

const noDelivery: DeliveryPort = { deliver: () => undefined };

async function startKernel(backend: Backend): Promise<NodeManager> {
  const node = new NodeManager({ delivery: noDelivery, backend });
  managers.push(node);
  await node.start();
  return node;
}

describe('history byte bound on Redis', () => {
  it('keeps the stream itself within the byte budget (not only what history returns), and a running total', async () => {
    const prefix = `bounds${++test}:`;
    const budget = 50_000;
    const backend = new RedisBackend({ url: server.url, nodeId: nodeId('bytes'), keyPrefix: prefix, historyMaxBytes: budget });
    const node = await startKernel(backend);
    await node.registerSession('s1');
    await node.create('s1', { group: 'big' });
    const large = 'y'.repeat(9_998); // 10,000 bytes as JSON: five fit
    for (let i = 0; i < 200; i++) await node.broadcast('s1', 'big', large);
    const raw = new Redis(server.url);
    try {
      const keys = new RedisKeys(prefix).group('big');
      const entries = (await raw.xrange(keys.history, '-', '+')) as Array<[string, string[]]>;
      const bytes = entries.reduce((sum, [, fields]) => sum + Buffer.byteLength(fields[fields.indexOf('d') + 1] as string), 0);
      expect(entries.map(([id]) => id)).toEqual(['196-0', '197-0', '198-0', '199-0', '200-0']);
      expect(bytes).toBe(50_000);
      expect(await raw.hget(keys.state, 'hbytes')).toBe(String(200 * 10_000));
      const { messages, complete } = await node.history('big', 0);
      expect(messages.map((m) => m.offset)).toEqual([196, 197, 198, 199, 200]);
      expect(complete).toBe(false);
    } finally {
      raw.disconnect();
    }
  });
});

describe('re-assert after a Redis restart respects maxMembers', () => {
  it('a member that finds the re-created group full stays out, and its node forgets the membership', async () => {
    const prefix = `reassert${++test}:`;
    const options = { url: server.url, keyPrefix: prefix, nodeTtlMs: 2000, commandTimeoutMs: 2000 };
    const heldA = new HeldReconnects(new RedisBackend({ ...options, nodeId: nodeId('a') }));
    const a = await startKernel(heldA);
    const b = await startKernel(new RedisBackend({ ...options, nodeId: nodeId('b') }));
    // C never watches the group: its reads are the store's snapshot.
    const c = await startKernel(new RedisBackend({ ...options, nodeId: nodeId('c') }));
    const ids = async (node: NodeManager): Promise<string> =>
      (await node.members('g'))
        .map((m) => m.id)
        .sort()
        .join();
    await a.registerSession('a1');
    await b.registerSession('b1');
    await b.registerSession('b2');
    await a.create('a1', { group: 'g', maxMembers: 2 });
    await b.join('b1', 'g');
    await waitUntil('A sees b1', async () => (await a.members('g')).length === 2, 10_000);

    // Redis restarts empty. B re-asserts first (A's reconnect is held), then b2 takes the free place.
    await server.restart();
    await waitUntil('A reconnected (held)', () => heldA.heldCount > 0, 30_000);
    await waitUntil(
      "B's re-assert and resync",
      async () => (await b.members('g').catch(() => [])).map((m) => m.id).join() === 'b1',
      30_000,
    );
    await b.join('b2', 'g');

    heldA.release();
    // A still watches the group (its subscription came back with the connection), so it heard b2 join already; it is
    // ready again once it re-asserted, and its replica agrees with the store once it resynced.
    await waitUntil("A's re-assert and resync", async () => a.ready && (await ids(a)) === (await ids(c)), 30_000);
    expect(await ids(c)).toBe('b1,b2');
    expect((await a.members('g')).map((m) => m.id).sort()).toEqual(['b1', 'b2']);
    expect((await b.members('g')).map((m) => m.id).sort()).toEqual(['b1', 'b2']);
    expect(a.groupsOf('a1').groups).toEqual([]);
    const refused = await a.broadcast('a1', 'g', 'still here?').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RoomsError);
    expect((refused as RoomsError).code).toBe('NOT_MEMBER');
    expect((await b.broadcast('b1', 'g', 'hello')).recipients).toBe(1);
  });
});
