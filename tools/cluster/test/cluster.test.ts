import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '@rooms-kit/testing';
import type { ServerMessage } from '@rooms-kit/testing';
import { CONVERGE_MS, startCluster } from './cluster-harness.js';

const isEv = (ev: string, group: string) => (m: ServerMessage) => m.ev === ev && m.group === group;

describe('cluster on Redis: one view (property 1)', () => {
  it('a member that joined on node A is listed on node B, and B members get joined, left and messages with the same offsets', async () => {
    const cluster = await startCluster(2);
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'g1', data: { name: 'a' } });
    await b.ok('join', { group: 'g1', data: { name: 'b' } });
    const joined = await a.waitFor(isEv('joined', 'g1'));
    expect(joined.member).toMatchObject({ id: b.session, node: b.welcome.node, data: { name: 'b' } });

    const membersOnB = await b.ok('members', { group: 'g1' });
    expect((membersOnB.members as Array<{ id: string; node: string }>).map((m) => m.id).sort()).toEqual([a.session, b.session].sort());
    const info = await b.ok('group', { group: 'g1' });
    expect(info).toMatchObject({ state: 'active', size: 2 });
    expect((info.nodes as string[]).sort()).toEqual([String(a.welcome.node), String(b.welcome.node)].sort());

    for (let i = 0; i < 20; i++) {
      (i % 2 === 0 ? a : b).sendRaw(JSON.stringify({ op: 'broadcast', group: 'g1', data: i, self: true }));
    }
    const onA = await a.waitForCount(isEv('message', 'g1'), 20);
    const onB = await b.waitForCount(isEv('message', 'g1'), 20);
    expect(onA.map((m) => m.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(onB.map((m) => [m.offset, m.data])).toEqual(onA.map((m) => [m.offset, m.data]));

    await b.ok('leave', { group: 'g1', data: 'bye' });
    const left = await a.waitFor(isEv('left', 'g1'));
    expect(left).toMatchObject({ reason: 'leave', data: 'bye', member: { id: b.session } });
  });
});

describe('cluster on Redis: atomic limits (property 2)', () => {
  it('concurrent create of one id on two nodes gives exactly one GROUP_EXISTS', async () => {
    const cluster = await startCluster(2);
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    const replies = await Promise.all([a.request('create', { group: 'same' }), b.request('create', { group: 'same' })]);
    expect(replies.filter((r) => r.ok === true)).toHaveLength(1);
    expect(replies.filter((r) => r.ok === false).map((r) => (r.error as { code: string }).code)).toEqual(['GROUP_EXISTS']);
  });

  it('20 concurrent joins over 3 nodes into maxMembers 5 admit exactly 5', async () => {
    const cluster = await startCluster(3);
    const owner = await cluster.connect(0);
    await owner.ok('create', { group: 'small', maxMembers: 5, allowEmpty: true, join: false });
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => cluster.connect(i % 3)));
    const replies = await Promise.all(clients.map((c) => c.request('join', { group: 'small' })));
    expect(replies.filter((r) => r.ok === true)).toHaveLength(5);
    const refused = replies.filter((r) => r.ok === false).map((r) => (r.error as { code: string }).code);
    expect(refused).toEqual(Array.from({ length: 15 }, () => 'GROUP_FULL'));
    const info = await owner.ok('group', { group: 'small' });
    expect(info.size).toBe(5);
  });
});

describe('cluster on Redis: one lifecycle (property 3)', () => {
  it('a group whose last member leaves on the other node is discarded once, cluster-wide, and can be created anew', async () => {
    const cluster = await startCluster(2, { ROOMS_EMPTY_GRACE_MS: '300' });
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'life' });
    await b.ok('join', { group: 'life' });
    // Watch the group's event channel in Redis: the store's discard must be published exactly once.
    const watcher = new Redis(cluster.redis.url);
    const discards: unknown[] = [];
    watcher.on('message', (_channel: string, text: string) => {
      const event = JSON.parse(text) as { type: string };
      if (event.type === 'discarded') discards.push(event);
    });
    await watcher.subscribe('rooms:{g:life}:ev');
    try {
      await a.ok('leave', { group: 'life' });
      await b.ok('leave', { group: 'life' });
      const grace = await a.ok('group', { group: 'life' });
      expect(grace.state).toBe('empty-grace');
      await waitUntil('the group to be discarded on both nodes', async () => {
        const [ra, rb] = await Promise.all([a.request('group', { group: 'life' }), b.request('group', { group: 'life' })]);
        return ra.ok === false && rb.ok === false;
      }, CONVERGE_MS);
      // Both nodes ran the grace; give a second attempt the time of another grace to show up, then count.
      await a.ok('create', { group: 'probe' });
      await a.ok('leave', { group: 'probe' });
      await waitUntil('probe to be discarded', async () => (await a.request('group', { group: 'probe' })).ok === false, CONVERGE_MS);
      expect(discards).toEqual([expect.objectContaining({ type: 'discarded', group: 'life', reason: 'empty' })]);
    } finally {
      watcher.disconnect();
    }
    const again = await Promise.all([a.request('create', { group: 'life' }), b.request('create', { group: 'life' })]);
    expect(again.filter((r) => r.ok === true)).toHaveLength(1);
  });

  it('a join during the grace keeps the group alive on every node', async () => {
    const cluster = await startCluster(2, { ROOMS_EMPTY_GRACE_MS: '400' });
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'kept' });
    await a.ok('leave', { group: 'kept' });
    await b.ok('join', { group: 'kept' });
    // Wait past the grace by observing another group's discard on the same timer length.
    await a.ok('create', { group: 'probe' });
    await a.ok('leave', { group: 'probe' });
    await waitUntil('probe to be discarded', async () => (await a.request('group', { group: 'probe' })).ok === false, CONVERGE_MS);
    const info = await a.ok('group', { group: 'kept' });
    expect(info).toMatchObject({ state: 'active', size: 1 });
  });
});

describe('cluster on Redis: dead nodes (property 5)', () => {
  it('SIGKILL of a node: its members leave with node-down on the other nodes within the bound', async () => {
    const cluster = await startCluster(2, { ROOMS_NODE_TTL_MS: '1500' });
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'crash' });
    await b.ok('join', { group: 'crash' });
    await a.waitFor(isEv('joined', 'crash'));
    const killedAt = Date.now();
    await cluster.nodes[1]?.kill();
    const left = await a.waitFor(isEv('left', 'crash'), 'left node-down', 6000);
    const elapsed = Date.now() - killedAt;
    expect(left).toMatchObject({ reason: 'node-down', member: { id: b.session } });
    const info = await a.ok('group', { group: 'crash' });
    expect(info).toMatchObject({ size: 1, nodes: [a.welcome.node] });
    // Reported, not asserted as a timing: figures belong to benchmarks; the waitFor bound above is the property.
    console.info(`node-down removal took ${elapsed} ms (ROOMS_NODE_TTL_MS=1500)`);
  });

  it('a group whose only members were on a killed node is discarded after its grace, and its id can be created anew', async () => {
    const cluster = await startCluster(2, { ROOMS_NODE_TTL_MS: '1500', ROOMS_EMPTY_GRACE_MS: '300' });
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await b.ok('create', { group: 'orphan' });
    await b.ok('broadcast', { group: 'orphan', data: 'history to clean up' });
    await cluster.nodes[1]?.kill();
    await waitUntil('the orphaned group to be discarded', async () => (await a.request('group', { group: 'orphan' })).ok === false, CONVERGE_MS, 100);
    expect((await a.ok('create', { group: 'orphan' })).group).toBe('orphan');
  });

  it('a session of a killed node resumes on another node, gets its groups back and its peers get rejoined', async () => {
    const cluster = await startCluster(2, { ROOMS_NODE_TTL_MS: '1500' });
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'phoenix' });
    await b.ok('join', { group: 'phoenix' });
    await cluster.nodes[1]?.kill();
    await a.waitFor(isEv('left', 'phoenix'), 'left phoenix', 6000);
    const resumed = await cluster.connect(0, `?session=${b.session}&resume=${String(b.welcome.resumeToken)}`);
    expect(resumed.welcome).toMatchObject({ resumed: true, session: b.session });
    const rejoined = await a.waitFor(isEv('rejoined', 'phoenix'));
    expect(rejoined.member).toMatchObject({ id: b.session, node: a.welcome.node });
    expect((await resumed.ok('groups')).groups).toEqual(['phoenix']);
  });
});

describe('cluster on Redis: Redis faults (property 6)', () => {
  it('while Redis is down joins fail fast with UNAVAILABLE; after an empty restart the view converges by itself', async () => {
    const cluster = await startCluster(2);
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'survivor' });
    await b.ok('join', { group: 'survivor' });
    await cluster.redis.kill();
    const refused = await b.request('create', { group: 'during-outage' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', temporary: true } });
    await waitUntil('readyz to say 503', async () => (await fetch(`${cluster.nodes[0]?.httpUrl}/readyz`)).status === 503, CONVERGE_MS);
    await cluster.redis.restart();
    await waitUntil(
      'both members to be back in the restarted Redis',
      async () => {
        const reply = await b.request('members', { group: 'survivor' });
        const ids = ((reply.members ?? []) as Array<{ id: string }>).map((m) => m.id).sort();
        return reply.ok === true && ids.length === 2 && ids.join() === [a.session, b.session].sort().join();
      },
      CONVERGE_MS,
      100,
    );
    await waitUntil('readyz to say 200', async () => (await fetch(`${cluster.nodes[0]?.httpUrl}/readyz`)).status === 200, CONVERGE_MS);
    const sent = await a.ok('broadcast', { group: 'survivor', data: 'after' });
    const got = await b.waitFor((m) => m.ev === 'message' && m.data === 'after');
    expect(got.offset).toBe(sent.offset);
  });
});

describe('cluster on Redis: recovery (property 7)', () => {
  it('a session dropped on node A resumes on node B and gets the messages it missed, in order', async () => {
    const cluster = await startCluster(2);
    const sender = await cluster.connect(0);
    const mover = await cluster.connect(0);
    await sender.ok('create', { group: 'news' });
    await mover.ok('join', { group: 'news' });
    await sender.ok('broadcast', { group: 'news', data: 'seen' });
    await mover.waitFor((m) => m.ev === 'message' && m.data === 'seen');
    await mover.terminate();
    for (let i = 0; i < 5; i++) await sender.ok('broadcast', { group: 'news', data: `missed-${i}` });
    const resumed = await cluster.connect(1, `?session=${mover.session}&resume=${String(mover.welcome.resumeToken)}`);
    expect(resumed.welcome.resumed).toBe(true);
    expect(resumed.welcome.node).not.toBe(mover.welcome.node);
    const replay = await resumed.waitForCount(isEv('message', 'news'), 5);
    expect(replay.map((m) => m.data)).toEqual(['missed-0', 'missed-1', 'missed-2', 'missed-3', 'missed-4']);
    expect(replay.map((m) => m.offset)).toEqual([2, 3, 4, 5, 6]);
    expect(sender.messages.some((m) => m.ev === 'left')).toBe(false);
    await sender.waitFor(isEv('rejoined', 'news'));
    await sender.ok('broadcast', { group: 'news', data: 'live' });
    const live = await resumed.waitFor((m) => m.ev === 'message' && m.data === 'live');
    expect(live.offset).toBe(7);
  });
});

describe('cluster on Redis: drain', () => {
  it('SIGTERM drains one node (1001, exit 0) while the others keep serving; its sessions resume elsewhere', async () => {
    const cluster = await startCluster(2, { ROOMS_RESUME_WINDOW_MS: '3000' });
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'drain' });
    await b.ok('join', { group: 'drain' });
    const closed = b.closed;
    const exited = cluster.nodes[1]?.signal('SIGTERM');
    expect((await closed).code).toBe(1001);
    const resumed = await cluster.connect(0, `?session=${b.session}&resume=${String(b.welcome.resumeToken)}`);
    expect(resumed.welcome.resumed).toBe(true);
    expect(await exited).toEqual({ code: 0, signal: null });
    await a.ok('broadcast', { group: 'drain', data: 'still here' });
    await resumed.waitFor((m) => m.ev === 'message' && m.data === 'still here');
    expect(a.messages.some((m) => m.ev === 'left')).toBe(false);
  });
});
