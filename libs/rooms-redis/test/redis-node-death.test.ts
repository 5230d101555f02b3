import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupSpec, ReplicaEvent } from '@rooms/core';
import { RedisServer } from '@rooms/testing';
import { nodeId, TestNodes } from './support/nodes.js';
import { waitUntil } from '@rooms/testing';

const NODE_TTL_MS = 3000;
const server = new RedisServer();
const nodes = new TestNodes(() => ({ url: server.url, keyPrefix: 'death:', nodeTtlMs: NODE_TTL_MS }));
let child: ChildProcess | null = null;

beforeAll(() => server.start(), 15_000);
afterAll(async () => {
  child?.kill('SIGKILL');
  await nodes.closeAll();
  await server.stop();
});

function spec(id: string): GroupSpec {
  return { id, allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
}

/** Starts the child node and resolves once it printed `ready`. */
function startChild(id: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./support/node-child.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      CHILD_NODE_ID: id,
      CHILD_REDIS_URL: server.url,
      CHILD_PREFIX: 'death:',
      CHILD_NODE_TTL_MS: String(NODE_TTL_MS),
      CHILD_GROUP: 'shared',
      CHILD_OWN_GROUP: 'own',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) resolve(proc);
    });
    proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.once('exit', (code) => reject(new Error(`child exited with ${code}: ${err}`)));
  });
}

describe('a node that dies (SIGKILL)', () => {
  it('is found dead within about nodeTtlMs; survivors remove its members with node-down and its session is takeable', async () => {
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    await a.createGroup(spec('shared'), { id: 'sa', node: a.nodeId });
    await b.watch('shared');
    const childId = nodeId('child');
    child = await startChild(childId);
    const own = await b.watch('own');
    expect(own?.members).toEqual([{ id: 'c3', node: childId }]);
    await ha.untilVersion('shared', 3);
    await waitUntil('a sees the child alive', () => a.liveNodes().includes(childId));
    // Held by a live node: not resumable yet.
    expect(await b.takeSession('child-session', 'wrong-hash')).toBeNull();

    child.kill('SIGKILL');
    const killedAt = Date.now();
    const isNodeDownLeave = (id: string) => (e: ReplicaEvent) => e.type === 'left' && e.member.id === id && e.reason === 'node-down';
    for (const h of [ha, hb]) {
      await h.waitForEvent(isNodeDownLeave('c1'), 'c1 left node-down', 10_000);
      await h.waitForEvent(isNodeDownLeave('c2'), 'c2 left node-down', 10_000);
      await h.until((x) => x.records.some((r) => r.kind === 'nodeDown' && r.node === childId), 'onNodeDown', 10_000);
    }
    const lastLeft = Math.max(
      ...[ha, hb].flatMap((h) => h.records.filter((r) => r.kind === 'event' && r.event.type === 'left').map((r) => r.at)),
    );
    console.info(`[measure] SIGKILL -> last node-down left event: ${lastLeft - killedAt} ms (nodeTtlMs ${NODE_TTL_MS})`);
    await hb.waitForEvent(isNodeDownLeave('c3'), 'c3 left its own group', 10_000);
    expect((await a.snapshot('shared'))?.members).toEqual([{ id: 'sa', node: a.nodeId }]);
    expect((await a.snapshot('own'))?.members).toEqual([]);
    // One event per member, in version order (which member goes first is up to Redis' hash order).
    const left = ha.events('shared').filter((e): e is Extract<ReplicaEvent, { type: 'left' }> => e.type === 'left');
    expect(left.map((e) => [e.v, e.size, e.reason])).toEqual([
      [4, 2, 'node-down'],
      [5, 1, 'node-down'],
    ]);
    expect(left.map((e) => e.member).sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: 'c1', node: childId },
      { id: 'c2', node: childId, data: { from: 'child' } },
    ]);
    expect(a.liveNodes()).not.toContain(childId);

    const taken = await b.takeSession('child-session', 'child-hash');
    expect(taken).toMatchObject({ id: 'child-session', node: b.nodeId, groups: { shared: 0 }, expiresAt: null, windowMs: 30_000 });
  });
});
