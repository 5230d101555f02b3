import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolClient, RedisServer, waitUntil } from '@rooms-kit/testing';
import type { ServerMessage } from '@rooms-kit/testing';
import { LoggedGateway } from './logged-gateway.js';

// Issue 13 (chaos run): after Redis is SIGKILLed and restarted empty, every liveness key is gone at once. No node may
// take that for the death of the others (their members got `left` node-down, then `joined` again), and no node may
// log that its own key expired "after a stall" it never had. A node that really died during the outage still has
// its members removed with `left` node-down.

/** Generous bound for a loaded 2-core machine. */
const WAIT_MS = 60_000;
/** The gateways' default node TTL (ROOMS_NODE_TTL_MS). */
const NODE_TTL_MS = 3000;
/** Members per gateway, all in one group. */
const PER_NODE = 3;
const GROUP = 'spread';
const STALL_WARNING = "this node's liveness key had expired (a stall longer than the node TTL): others may have removed its members";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Spread {
  redis: RedisServer;
  nodes: LoggedGateway[];
  /** The clients of node `i`: `clients[i]`. */
  clients: ProtocolClient[][];
}

/** Redis, three gateways, PER_NODE clients on each, all members of GROUP (every member has seen all the others join). */
async function spreadGroup(): Promise<Spread> {
  const redis = new RedisServer();
  cleanups.push(() => redis.stop());
  await redis.start();
  const nodes = await Promise.all(
    ['store-a', 'store-b', 'store-c'].map(async (id) => {
      const node = await LoggedGateway.start(id, redis.url);
      cleanups.push(() => node.kill());
      return node;
    }),
  );
  const clients: ProtocolClient[][] = [];
  for (const node of nodes) {
    const onNode: ProtocolClient[] = [];
    for (let i = 0; i < PER_NODE; i++) {
      const client = await ProtocolClient.connect(node.wsUrl);
      cleanups.push(async () => {
        await client.terminate();
      });
      await client.ok(clients.length === 0 && i === 0 ? 'create' : 'join', { group: GROUP });
      onNode.push(client);
    }
    clients.push(onNode);
  }
  const all = clients.flat();
  await waitUntil('every client to see every member', async () => (await Promise.all(all.map((c) => memberIds(c)))).every((ids) => ids.length === all.length), WAIT_MS, 100);
  return { redis, nodes, clients };
}

async function memberIds(client: ProtocolClient): Promise<string[]> {
  const reply = await client.request('members', { group: GROUP });
  return reply.ok === true ? ((reply.members ?? []) as Array<{ id: string }>).map((m) => m.id).sort() : [];
}

async function readyz(node: LoggedGateway): Promise<number> {
  return (await fetch(`${node.httpUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(() => null))?.status ?? 0;
}

/** Kills Redis, waits until every listed node sees it gone (/readyz 503), runs `during`, and restarts Redis empty. */
async function restartEmpty(spread: Spread, watching: LoggedGateway[], during: () => Promise<void> = async () => undefined): Promise<void> {
  await spread.redis.kill();
  await waitUntil('the nodes to say 503', async () => (await Promise.all(watching.map(readyz))).every((s) => s === 503), WAIT_MS, 50);
  await during();
  await spread.redis.restart();
}

const nodeDown = (m: ServerMessage): boolean => m.ev === 'left' && m.reason === 'node-down';

describe('an empty Redis restart is no node death: liveness (issue 13, chaos run)', () => {
  it('three gateways, members spread over them, Redis SIGKILLed and restarted empty: no node is found dead, none logs a stall', async () => {
    const spread = await spreadGroup();
    const all = spread.clients.flat();
    const expected = all.map((c) => c.session).sort();
    await restartEmpty(spread, spread.nodes);
    await waitUntil(
      'the view to converge after the restart',
      async () => (await Promise.all(all.map((c) => memberIds(c)))).every((ids) => ids.join() === expected.join()),
      WAIT_MS,
      100,
    );
    await waitUntil('every node to say 200', async () => (await Promise.all(spread.nodes.map(readyz))).every((s) => s === 200), WAIT_MS, 50);
    // What must not happen has no event to wait for: two node TTLs after convergence cover a late verdict.
    await new Promise((resolve) => setTimeout(resolve, 2 * NODE_TTL_MS));
    for (const node of spread.nodes) {
      expect(node.logged('node found dead')).toEqual([]);
      expect(node.logged(STALL_WARNING)).toEqual([]);
    }
    for (const ids of await Promise.all(all.map((c) => memberIds(c)))) expect(ids).toEqual(expected);
  });

  it('a gateway SIGKILLed while Redis is down is found dead after the empty restart, the others are not', async () => {
    const spread = await spreadGroup();
    const [a, b, c] = spread.nodes as [LoggedGateway, LoggedGateway, LoggedGateway];
    const [onA, onB] = spread.clients as [ProtocolClient[], ProtocolClient[]];
    const survivors = [...onA, ...onB];
    await restartEmpty(spread, [a, b], () => c.kill());
    await waitUntil('both survivors to find store-c dead', () => a.logged('node found dead', 'store-c').length > 0 && b.logged('node found dead', 'store-c').length > 0, WAIT_MS, 50);
    const expected = survivors.map((client) => client.session).sort();
    await waitUntil(
      'the view to converge without the killed node',
      async () => (await Promise.all(survivors.map((client) => memberIds(client)))).every((ids) => ids.join() === expected.join()),
      WAIT_MS,
      100,
    );
    for (const node of [a, b]) {
      expect(node.logged('node found dead').map((line) => line.node)).toEqual(['store-c']);
      expect(node.logged(STALL_WARNING)).toEqual([]);
    }
  });
});

// The same faults as the clients see them. A node's resync after its re-assert may read a group before the other
// nodes re-asserted their members: it keeps the members of nodes the liveness still lists as live (`liveNodes()`,
// which after a store loss includes the awaited nodes) and reads the group again a node TTL later, which removes
// (`left` node-down) those still missing, the members of a node that died during the outage among them.
describe('an empty Redis restart is no node death: clients (issue 13, chaos run)', () => {
  it('three gateways, members spread over them, Redis SIGKILLed and restarted empty: nobody gets left node-down, nobody logs a stall', async () => {
    const spread = await spreadGroup();
    const all = spread.clients.flat();
    const expected = all.map((c) => c.session).sort();
    await restartEmpty(spread, spread.nodes);
    await waitUntil(
      'the view to converge after the restart',
      async () => (await Promise.all(all.map((c) => memberIds(c)))).every((ids) => ids.join() === expected.join()),
      WAIT_MS,
      100,
    );
    await waitUntil('every node to say 200', async () => (await Promise.all(spread.nodes.map(readyz))).every((s) => s === 200), WAIT_MS, 50);
    // What must not happen has no event to wait for: two node TTLs after convergence cover a late verdict.
    await new Promise((resolve) => setTimeout(resolve, 2 * NODE_TTL_MS));
    expect(all.flatMap((c) => c.messages.filter(nodeDown))).toEqual([]);
    for (const node of spread.nodes) {
      expect(node.logged('node found dead')).toEqual([]);
      expect(node.logged(STALL_WARNING)).toEqual([]);
    }
    // Still one group of all of them, as seen from every node.
    for (const ids of await Promise.all(all.map((c) => memberIds(c)))) expect(ids).toEqual(expected);
  });

  it('a gateway SIGKILLed while Redis is down: after the empty restart the others get left node-down for each of its members', async () => {
    const spread = await spreadGroup();
    const [a, b, c] = spread.nodes as [LoggedGateway, LoggedGateway, LoggedGateway];
    const [onA, onB, onC] = spread.clients as [ProtocolClient[], ProtocolClient[], ProtocolClient[]];
    const survivors = [...onA, ...onB];
    const dead = new Set(onC.map((client) => client.session));
    await restartEmpty(spread, [a, b], () => c.kill());
    const expected = survivors.map((client) => client.session).sort();
    await waitUntil(
      'the view to converge without the killed node',
      async () => (await Promise.all(survivors.map((client) => memberIds(client)))).every((ids) => ids.join() === expected.join()),
      WAIT_MS,
      100,
    );
    for (const client of survivors) {
      await waitUntil('left node-down for every member of the killed node', () => client.messages.filter(nodeDown).length >= dead.size, WAIT_MS, 50);
      const gone = client.messages.filter(nodeDown).map((m) => (m.member as { id: string }).id);
      expect(new Set(gone)).toEqual(dead);
      expect(gone).toHaveLength(dead.size);
    }
  });
});
