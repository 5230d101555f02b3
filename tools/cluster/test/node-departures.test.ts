import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolClient, RedisServer, waitUntil } from '@rooms-kit/testing';
import type { ServerMessage } from '@rooms-kit/testing';
import { INFO, LoggedGateway, WARN } from './logged-gateway.js';

// Issue 13, items 9 and 10 (node lifecycle), with real gateway processes on a real Redis: a drained node is "left",
// not "found dead"; a resume after a crash replays only what came after the last offset checkpoint; an orphaned group
// is ended even when the node that adopted it dies during its grace.

/** Generous bound for a loaded 2-core machine. */
const WAIT_MS = 60_000;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function redisServer(): Promise<{ server: RedisServer; raw: Redis }> {
  const server = new RedisServer();
  await server.start();
  const raw = new Redis(server.url);
  cleanups.push(async () => {
    raw.disconnect();
    await server.stop();
  });
  return { server, raw };
}

async function gateway(id: string, redisUrl: string, env: Record<string, string> = {}): Promise<LoggedGateway> {
  const node = await LoggedGateway.start(id, redisUrl, env);
  cleanups.push(() => node.kill());
  return node;
}

async function client(url: string): Promise<ProtocolClient> {
  const c = await ProtocolClient.connect(url);
  cleanups.push(async () => {
    await c.terminate();
  });
  return c;
}

const isMessage = (group: string) => (m: ServerMessage) => m.ev === 'message' && m.group === group;

describe('a node that stops cleanly is seen as left, not dead (issue 13, item 9)', () => {
  it('SIGTERM (drain, then close): the survivor logs "node left" at info and no "found dead"; a SIGKILLed node is still found dead (warn)', async () => {
    const { server } = await redisServer();
    // A short resume window: the drain waits (at most that long) for its suspended sessions to be resumed elsewhere.
    const [a, b, c] = await Promise.all([
      gateway('drained-a', server.url, { ROOMS_RESUME_WINDOW_MS: '1000' }),
      gateway('survivor-b', server.url),
      gateway('killed-c', server.url),
    ]);
    const onA = await client(a.wsUrl);
    const onB = await client(b.wsUrl);
    await onA.ok('create', { group: 'g' });
    await onB.ok('join', { group: 'g' });

    await a.signal('SIGTERM');
    await waitUntil('the survivor to notice drained-a', () => b.logged('node left', 'drained-a').length + b.logged('node found dead', 'drained-a').length > 0, WAIT_MS, 50);
    expect(b.logged('node left', 'drained-a').map((line) => line.level)).toEqual([INFO]);
    expect(b.logged('node found dead', 'drained-a')).toEqual([]);
    expect(b.lines.filter((line) => line.level >= WARN && line.node === 'drained-a')).toEqual([]);
    // What is due for a departed node is still done: its member is gone from the group.
    await waitUntil('the drained member to be removed', async () => ((await onB.ok('group', { group: 'g' })).size as number) === 1, WAIT_MS, 100);

    await c.kill();
    await waitUntil('the survivor to find killed-c dead', () => b.logged('node found dead', 'killed-c').length > 0, WAIT_MS, 50);
    expect(b.logged('node found dead', 'killed-c').map((line) => line.level)).toEqual([WARN]);
    expect(b.logged('node left', 'killed-c')).toEqual([]);
  });
});

describe('offset checkpoints (issue 13, item 9)', () => {
  it('a client on node A got N messages; after a checkpoint A is SIGKILLed; a resume on B replays only what came after it, no loss, no duplicate', async () => {
    const N = 20;
    const { server, raw } = await redisServer();
    const [a, b] = await Promise.all([gateway('holder-a', server.url), gateway('other-b', server.url)]);
    const receiver = await client(a.wsUrl);
    const sender = await client(b.wsUrl);
    await receiver.ok('create', { group: 'g' });
    await sender.ok('join', { group: 'g' });
    for (let i = 1; i <= N; i++) await sender.ok('broadcast', { group: 'g', data: i });
    const live = await receiver.waitForCount(isMessage('g'), N, 'N messages', WAIT_MS);
    expect(live.map((m) => m.offset)).toEqual(Array.from({ length: N }, (_, i) => i + 1));

    // The checkpoint (every 5 s by default) stores the delivered offsets in the session's record.
    await waitUntil(
      'the checkpoint to store offset N',
      async () => {
        const rec = (await raw.hget(`rooms:session:${receiver.session}`, 'rec')) ?? '{}';
        return (JSON.parse(rec) as { groups?: Record<string, number> }).groups?.g === N;
      },
      WAIT_MS,
      100,
    );
    await a.kill();
    for (let i = N + 1; i <= N + 5; i++) await sender.ok('broadcast', { group: 'g', data: i });

    const resumed = await client(`${b.wsUrl}?session=${receiver.session}&resume=${receiver.welcome.resumeToken}`);
    expect(resumed.welcome.resumed).toBe(true);
    const replayed = await resumed.waitForCount(isMessage('g'), 5, 'the replay', WAIT_MS);
    const all = [...live, ...replayed].map((m) => m.offset);
    expect(replayed.map((m) => m.data)).toEqual([21, 22, 23, 24, 25]);
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: N + 5 }, (_, i) => i + 1));
    // Nothing more than the 5 missed ones (the messages up to N would follow the replay at once if they were in it).
    await resumed.ok('groups');
    expect(resumed.messages.filter(isMessage('g'))).toHaveLength(5);
  });
});

describe('an orphaned group outlives no cleaner (issue 13, item 10)', () => {
  it('the holder is SIGKILLed, then the node that cleaned up after it is SIGKILLed during the grace: the last node discards the group', async () => {
    const GRACE_MS = 15_000;
    const { server, raw } = await redisServer();
    const env = { ROOMS_EMPTY_GRACE_MS: String(GRACE_MS) };
    const [holder, b, c] = await Promise.all([gateway('holder-a', server.url, env), gateway('node-b', server.url, env), gateway('node-c', server.url, env)]);
    const onHolder = await client(holder.wsUrl);
    await onHolder.ok('create', { group: 'orphan' });
    const state = 'rooms:{g:orphan}:state';

    await holder.kill();
    const cleaner = await waitUntil(
      'a survivor to clean up after holder-a',
      () => [b, c].find((node) => node.logged('cleaned up after a dead node', 'holder-a').some((line) => Number(line.groups) >= 1)),
      WAIT_MS,
      20,
    );
    const survivor = cleaner === b ? c : b;
    await cleaner.kill();
    // The cleaner died during the grace: the group is still there (else this test proves nothing).
    expect(await raw.exists(state)).toBe(1);
    await waitUntil('the survivor to discard the orphaned group', async () => (await raw.exists(state)) === 0, WAIT_MS + 2 * GRACE_MS, 100);
    const onSurvivor = await client(survivor.wsUrl);
    const reply = await onSurvivor.request('group', { group: 'orphan' });
    expect(reply.error).toMatchObject({ code: 'GROUP_NOT_FOUND' });
  });
});
