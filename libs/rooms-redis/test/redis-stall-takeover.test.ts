import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeManager } from '@rooms-kit/core';
import type { DeliveryEvent, SessionId } from '@rooms-kit/core';
import { RedisServer, WatchedProcess, waitUntil } from '@rooms-kit/testing';
import { RedisBackend } from '../src/index.js';
import { nodeId } from './support/nodes.js';

const server = new RedisServer();
const prefix = 'stalltake:';
const ttl = 1000;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(() => server.start(), 90_000);
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server.stop();
});

/** What the kernel child (support/kernel-child.ts) printed, as parsed JSON lines. */
type ChildLine = { ended: SessionId; reason: string; held: boolean } | { ev: DeliveryEvent['ev']; data?: unknown; to: SessionId[] };

/** Starts the kernel child and resolves, once it printed `ready`, with its process and the lines it printed since. */
async function startKernelChild(id: string): Promise<{ watched: WatchedProcess; lines: ChildLine[] }> {
  const script = fileURLToPath(new URL('./support/kernel-child.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, CHILD_NODE_ID: id, CHILD_REDIS_URL: server.url, CHILD_PREFIX: prefix, CHILD_NODE_TTL_MS: String(ttl), CHILD_GROUP: 'room' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watched = new WatchedProcess(proc, 'the kernel child');
  cleanups.push(async () => {
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await watched.exited;
  });
  const lines: ChildLine[] = [];
  let ready = false;
  let rest = '';
  proc.stdout.on('data', (chunk: string) => {
    const text = rest + chunk;
    const cut = text.lastIndexOf('\n');
    rest = text.slice(cut + 1);
    for (const line of text.slice(0, cut + 1).split('\n')) {
      if (line === 'ready') ready = true;
      else if (line.startsWith('{')) lines.push(JSON.parse(line) as ChildLine);
    }
  });
  await watched.waitUntil('the kernel child to be ready', () => ready);
  return { watched, lines };
}

describe('a kernel that stalls past its TTL while another node resumes one of its sessions', () => {
  it('drops the session as taken when it runs again: no more events for it, no left for the others', async () => {
    const delivered: Array<{ event: DeliveryEvent; to: SessionId[] }> = [];
    const backend = new RedisBackend({ url: server.url, nodeId: nodeId('b'), keyPrefix: prefix, nodeTtlMs: ttl });
    const b = new NodeManager({
      backend,
      delivery: { deliver: (event, to, except) => void delivered.push({ event, to: [...to].filter((s) => s !== except) }) },
    });
    cleanups.push(() => b.close());
    await b.start();
    await b.registerSession('stay');
    await b.create('stay', { group: 'room' });
    const childId = nodeId('stalled');
    const child = await startKernelChild(childId);
    await waitUntil('the child members in the room', async () => (await b.members('room')).length === 3);

    child.watched.child.kill('SIGSTOP');
    const nodeDownOf = (member: SessionId): boolean =>
      delivered.some(({ event }) => event.ev === 'left' && event.member.id === member && event.reason === 'node-down');
    await waitUntil('the stalled node found dead and its members removed', () => nodeDownOf('mover') && nodeDownOf('watcher'), 30_000);
    // The client of `mover` gives up on the stalled node and resumes on b; the bus cannot reach the stalled node.
    expect(await b.resumeSession('mover', 'h1', 'h2')).toMatchObject({ lost: [] });

    child.watched.child.kill('SIGCONT');
    await child.watched.waitUntil('the child to end mover as taken', () => child.lines.some((l) => 'ended' in l), 30_000);
    expect(child.lines.filter((l) => 'ended' in l)).toEqual([{ ended: 'mover', reason: 'taken', held: false }]);
    // Its other member is back; mover is b's.
    await waitUntil('watcher re-asserted', async () => (await b.members('room')).some((m) => m.id === 'watcher'), 30_000);
    const members = await b.members('room');
    expect(members.find((m) => m.id === 'mover')?.node).toBe(b.nodeId);
    expect(members.find((m) => m.id === 'watcher')?.node).toBe(childId);

    // A message to the room now reaches the stalled node's watcher only: the old connection of mover gets nothing.
    await b.broadcast('stay', 'room', 'after');
    await child.watched.waitUntil('the child to deliver the message', () => child.lines.some((l) => 'ev' in l && l.data === 'after'), 30_000);
    expect(child.lines.filter((l) => 'ev' in l && l.data === 'after')).toEqual([{ ev: 'message', data: 'after', to: ['watcher'] }]);
    // mover never left the room for the others (only its node-down while the node was taken for dead).
    expect(delivered.filter(({ event }) => event.ev === 'left' && event.member.id === 'mover').map(({ event }) => event.ev === 'left' && event.reason)).toEqual([
      'node-down',
    ]);
  });
});
