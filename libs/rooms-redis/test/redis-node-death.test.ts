import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupSpec, ReplicaEvent } from '@rooms-kit/core';
import { RedisKeys } from '../src/index.js';
import { RedisServer } from '@rooms-kit/testing';
import { nodeId, TestNodes } from './support/nodes.js';
import { waitUntil } from '@rooms-kit/testing';

const server = new RedisServer();
let prefix = 'death:';
let ttl = 3000;
const nodes = new TestNodes(() => ({ url: server.url, keyPrefix: prefix, nodeTtlMs: ttl }));
const children: ChildProcess[] = [];
let raw: Redis;

beforeAll(async () => {
  await server.start();
  raw = new Redis(server.url);
}, 90_000);
afterAll(async () => {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  raw.disconnect();
  await nodes.closeAll();
  await server.stop();
});

function spec(id: string): GroupSpec {
  return { id, allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
}

/** A child node process and the lines it printed. */
interface Child {
  proc: ChildProcess;
  /** Resolves once the child printed `line` (now or earlier). */
  printed(line: string, timeoutMs?: number): Promise<void>;
}

/** Starts the child node (see support/node-child.ts) and resolves once it printed `ready`. */
async function startChild(id: string): Promise<Child> {
  const script = fileURLToPath(new URL('./support/node-child.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      CHILD_NODE_ID: id,
      CHILD_REDIS_URL: server.url,
      CHILD_PREFIX: prefix,
      CHILD_NODE_TTL_MS: String(ttl),
      CHILD_GROUP: 'shared',
      CHILD_OWN_GROUP: 'own',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const lines: string[] = [];
  let err = '';
  let out = '';
  const waiters = new Set<() => void>();
  proc.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const cut = out.lastIndexOf('\n');
    if (cut < 0) return;
    lines.push(...out.slice(0, cut).split('\n'));
    out = out.slice(cut + 1);
    for (const waiter of [...waiters]) waiter();
  });
  proc.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const printed = (line: string, timeoutMs = 60_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!lines.includes(line)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`the child did not print ${line} within ${timeoutMs} ms; stderr: ${err}`));
      }, timeoutMs);
      waiters.add(check);
      proc.once('exit', (code) => reject(new Error(`child exited with ${code}: ${err}`)));
      check();
    });
  await printed('ready');
  return { proc, printed };
}

const isNodeDownLeave = (id: string) => (e: ReplicaEvent) => e.type === 'left' && e.member.id === id && e.reason === 'node-down';

describe('a node that dies (SIGKILL)', () => {
  it('is found dead within about nodeTtlMs; survivors remove its members with node-down and its session is takeable', async () => {
    prefix = 'death:';
    ttl = 3000;
    const { node: a, handler: ha } = await nodes.add('a');
    const { node: b, handler: hb } = await nodes.add('b');
    await a.groups.createGroup(spec('shared'), { id: 'sa', node: a.nodeId });
    await b.groups.watch('shared');
    const childId = nodeId('child');
    const { proc } = await startChild(childId);
    const own = await b.groups.watch('own');
    expect(own?.members).toEqual([{ id: 'c3', node: childId }]);
    await ha.untilVersion('shared', 3);
    await waitUntil('a sees the child alive', () => a.bus.liveNodes().includes(childId));
    // Held by a live node: not resumable yet.
    expect(await b.sessions.take('child-session', 'wrong-hash')).toBeNull();

    proc.kill('SIGKILL');
    const killedAt = Date.now();
    for (const h of [ha, hb]) {
      await h.waitForEvent(isNodeDownLeave('c1'), 'c1 left node-down', 10_000);
      await h.waitForEvent(isNodeDownLeave('c2'), 'c2 left node-down', 10_000);
      await h.until((x) => x.records.some((r) => r.kind === 'nodeDown' && r.node === childId), 'onNodeDown', 10_000);
    }
    const lastLeft = Math.max(
      ...[ha, hb].flatMap((h) => h.records.filter((r) => r.kind === 'event' && r.event.type === 'left').map((r) => r.at)),
    );
    console.info(`[measure] SIGKILL -> last node-down left event: ${lastLeft - killedAt} ms (nodeTtlMs ${ttl})`);
    await hb.waitForEvent(isNodeDownLeave('c3'), 'c3 left its own group', 10_000);
    expect((await a.groups.snapshot('shared'))?.members).toEqual([{ id: 'sa', node: a.nodeId }]);
    expect((await a.groups.snapshot('own'))?.members).toEqual([]);
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
    expect(a.bus.liveNodes()).not.toContain(childId);
    // The child's own group is left without a member: the one survivor that cleaned up takes over its lifecycle.
    await waitUntil('one survivor told of the orphan', () => ha.orphans().length + hb.orphans().length > 0);
    expect([...ha.orphans(), ...hb.orphans()]).toEqual(['own']);

    const taken = await b.sessions.take('child-session', 'child-hash');
    expect(taken).toMatchObject({ record: { id: 'child-session', node: b.nodeId, groups: { shared: 0 }, expiresAt: null, windowMs: 30_000 }, previousNode: childId });
  });
});

describe('a node that stalls past its TTL (SIGSTOP, then SIGCONT)', () => {
  it('is cleaned up as dead, then re-asserts its members and session when it runs again', async () => {
    prefix = 'stall:';
    ttl = 1000;
    const keys = new RedisKeys(prefix);
    const { node: b, handler: hb } = await nodes.add('b');
    await b.groups.createGroup(spec('shared'), { id: 'sb', node: b.nodeId });
    const childId = nodeId('stalled');
    const child = await startChild(childId);
    await hb.until((h) => h.events('shared').filter((e) => e.type === 'joined').length === 2, 'c1 and c2 joined');

    child.proc.kill('SIGSTOP');
    await hb.waitForEvent(isNodeDownLeave('c1'), 'c1 left node-down');
    await hb.waitForEvent(isNodeDownLeave('c2'), 'c2 left node-down');
    await waitUntil('the cleanup after the child to end', async () => (await raw.sismember(keys.nodes, childId)) === 0);
    expect(await raw.hget(keys.session('child-session'), 'died')).not.toBe('');
    expect(await raw.pttl(keys.session('child-session'))).toBeGreaterThan(0);
    expect(hb.orphans()).toEqual(['own']);

    child.proc.kill('SIGCONT');
    await child.printed('reasserted');
    // Re-asserted after the node-down: `rejoined` (previousNode null), not `joined` (issue 13, item 9).
    await hb.until((h) => h.events('shared').filter((e) => e.type === 'rejoined' && e.previousNode === null).length === 2, 'c1 and c2 back');
    const shared = await b.groups.snapshot('shared');
    expect(shared?.members.map((m) => m.id).sort()).toEqual(['c1', 'c2', 'sb']);
    expect((await b.groups.snapshot('own'))?.members).toEqual([{ id: 'c3', node: childId }]);
    // Its session is live again (no death mark, no expiry), and the indexes the next cleanup needs are back.
    expect(await raw.hget(keys.session('child-session'), 'died')).toBe('');
    expect(await raw.pttl(keys.session('child-session'))).toBe(-1);
    expect((await raw.smembers(keys.nodeGroups(childId))).sort()).toEqual(['own', 'shared']);
    expect(await raw.sismember(keys.nodeSessions(childId), 'child-session')).toBe(1);
    await waitUntil('b sees the child alive again', () => b.bus.liveNodes().includes(childId));

    // When it really dies now, its members are removed again.
    child.proc.kill('SIGKILL');
    await hb.until((h) => h.events('shared').filter((e) => e.type === 'left' && e.reason === 'node-down').length === 4, 'c1 and c2 left again');
    expect((await b.groups.snapshot('shared'))?.members).toEqual([{ id: 'sb', node: b.nodeId }]);
  });
});
