import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { LivenessPolicy } from '@rooms-kit/core';
import type { NodeId } from '@rooms-kit/core';
import { RedisServer, waitUntil } from '@rooms-kit/testing';
import { RedisKeys } from '../src/keys.js';
import { NodeLiveness } from '../src/liveness.js';
import type { RedisCaller } from '../src/script-runner.js';
import { RecordingLogger } from './support/nodes.js';

// Issue 13 (chaos run): Redis SIGKILLed and restarted empty loses every liveness key at once. That is no death of the
// other nodes, and no stall of this one; a node that really died while Redis was away is still found dead, a TTL
// after the store came back.

const NODE_TTL_MS = 1000;
const WAIT_MS = 60_000;
const STALL_WARNING = "this node's liveness key had expired (a stall longer than the node TTL): others may have removed its members";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** One node's liveness on its own connection (no offline queue, like the backend's), whose commands a test can hold back. */
interface Node {
  id: NodeId;
  liveness: NodeLiveness;
  logger: RecordingLogger;
  down: NodeId[];
  expired: number;
  /** While true every command fails (a node that reconnects later than the others). */
  cut: boolean;
}

async function startNode(id: NodeId, url: string): Promise<Node> {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  await waitUntil(`${id} to connect`, () => client.status === 'ready', WAIT_MS, 10);
  const logger = new RecordingLogger();
  const node: Node = { id, liveness: null as unknown as NodeLiveness, logger, down: [], expired: 0, cut: false };
  const redis: RedisCaller = { call: (command, ...args) => (node.cut ? Promise.reject(new Error('cut off')) : client.call(command, ...args)) };
  node.liveness = new NodeLiveness({
    policy: new LivenessPolicy({ nodeId: id, nodeTtlMs: NODE_TTL_MS, now: Date.now }),
    keys: new RedisKeys('rooms:'),
    redis,
    logger,
    onNodeDown: (other) => node.down.push(other),
    cleanUp: async () => undefined,
    onExpired: () => node.expired++,
  });
  await node.liveness.start();
  cleanups.push(async () => {
    await node.liveness.stop(false);
    client.disconnect();
  });
  return node;
}

async function threeNodes(): Promise<{ server: RedisServer; nodes: Node[] }> {
  const server = new RedisServer();
  cleanups.push(() => server.stop());
  await server.start();
  const nodes = await Promise.all(['a', 'b', 'c'].map((id) => startNode(id, server.url)));
  await waitUntil('every node to see the others live', () => nodes.every((n) => n.liveness.liveNodes().length === 3), WAIT_MS, 10);
  return { server, nodes };
}

const stallWarnings = (node: Node) => node.logger.lines.filter((line) => line.msg === STALL_WARNING);

describe('NodeLiveness through an empty Redis restart', () => {
  it('nobody is found dead and nobody logs a stall, also when one node reaches the restarted Redis later than the others', async () => {
    const { server, nodes } = await threeNodes();
    const [a, b, c] = nodes as [Node, Node, Node];
    c.cut = true;
    await server.restart();
    // a and b write their keys again; c still cannot, for half a TTL after the store is back.
    const reader = new Redis(server.url, { lazyConnect: true });
    cleanups.push(async () => reader.disconnect());
    await waitUntil('a and b to beat again', async () => (await reader.exists('rooms:node:a', 'rooms:node:b').catch(() => 0)) === 2, WAIT_MS, 20);
    await new Promise((resolve) => setTimeout(resolve, NODE_TTL_MS / 2));
    c.cut = false;
    await waitUntil('every node to see the others live again', () => nodes.every((n) => n.liveness.liveNodes().length === 3), WAIT_MS, 10);
    // What must not happen has no event to wait for: two TTLs cover a late verdict.
    await new Promise((resolve) => setTimeout(resolve, 2 * NODE_TTL_MS));
    for (const node of [a, b, c]) {
      expect(node.down).toEqual([]);
      expect(stallWarnings(node)).toEqual([]);
      expect(node.liveness.liveNodes()).toEqual([node.id, ...['a', 'b', 'c'].filter((id) => id !== node.id)]);
    }
    // Each re-asserts what it lost with the store (no reconnect was reported here: the heartbeat is what tells).
    await waitUntil('every node to re-assert', () => nodes.every((n) => n.expired >= 1), WAIT_MS, 10);
  });

  it('a node that died while Redis was away is found dead after the restart, the others are not', async () => {
    const { server, nodes } = await threeNodes();
    const [a, b, c] = nodes as [Node, Node, Node];
    await server.kill();
    await c.liveness.stop(false);
    await server.start();
    await waitUntil('a and b to find c dead', () => a.down.includes('c') && b.down.includes('c'), WAIT_MS, 10);
    expect(a.down).toEqual(['c']);
    expect(b.down).toEqual(['c']);
    expect(a.liveness.liveNodes()).toEqual(['a', 'b']);
    expect(stallWarnings(a)).toEqual([]);
    expect(stallWarnings(b)).toEqual([]);
  });
});
