import { describe, expect, it } from 'vitest';
import { waitUntil } from '@rooms-kit/testing';
import type { ServerMessage } from '@rooms-kit/testing';
import type { GatewayProcess } from '../src/index.js';
import { CONVERGE_MS, startCluster } from './cluster-harness.js';

const ADMIN_TOKEN = 'admin-cluster-test-token-of-at-least-32-bytes';
const ENV = { ROOMS_ADMIN_TOKEN: ADMIN_TOKEN, ROOMS_NODE_TTL_MS: '1500', ROOMS_RESUME_WINDOW_MS: '120000' };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** Calls the admin API of `node`, bounded (a stalled node must not hang the test). */
async function admin(node: GatewayProcess | undefined, method: string, path: string): Promise<Answer> {
  if (!node) throw new Error('no such node');
  const res = await fetch(`${node.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const isEv = (ev: string, group: string) => (m: ServerMessage) => m.ev === ev && m.group === group;
const sessionNotFound = { error: { code: 'SESSION_NOT_FOUND', message: 'no such session', temporary: false } };

describe('admin API across two nodes on Redis (issue 9, item 4)', () => {
  it('GET and DELETE /admin/sessions/:id on one node answer for a session the other node holds: connected, suspended, kicked', async () => {
    const cluster = await startCluster(2, ENV);
    const [n0, n1] = cluster.nodes;
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'hall' });
    await a.ok('create', { group: 'side' });
    await b.ok('join', { group: 'hall' });
    await a.waitFor(isEv('joined', 'hall'));
    const path = `/admin/sessions/${a.session}`;

    expect(await admin(n1, 'GET', path)).toEqual({
      status: 200,
      body: { session: a.session, user: null, node: a.welcome.node, connected: true, transport: 'websocket', groups: ['hall', 'side'] },
    });
    expect((await admin(n0, 'GET', `/admin/sessions/${b.session}`)).body).toMatchObject({ node: b.welcome.node, connected: true, groups: ['hall'] });

    await a.terminate();
    await waitUntil('node 1 to show the session suspended', async () => (await admin(n1, 'GET', path)).body.connected === false, CONVERGE_MS, 50);
    expect((await admin(n1, 'GET', path)).body).toMatchObject({ node: a.welcome.node, groups: ['hall', 'side'] });

    expect(await admin(n1, 'DELETE', path)).toEqual({ status: 200, body: { session: a.session } });
    expect(await b.waitFor(isEv('left', 'hall'))).toMatchObject({ reason: 'kicked', member: { id: a.session } });
    expect(await admin(n1, 'GET', path)).toEqual({ status: 404, body: sessionNotFound });
    expect(await admin(n0, 'GET', path)).toEqual({ status: 404, body: sessionNotFound });
    expect(await admin(n1, 'DELETE', path)).toEqual({ status: 404, body: sessionNotFound });
  });

  it('a session whose node was SIGKILLed is shown from its record, not connected, until it resumes on the survivor', async () => {
    const cluster = await startCluster(2, ENV);
    const [, n1] = cluster.nodes;
    const a = await cluster.connect(0);
    await a.ok('create', { group: 'kept' });
    await cluster.nodes[0]?.kill();
    const path = `/admin/sessions/${a.session}`;
    // While node 0 is not yet found dead, asking it fails (503, temporary); then its record answers.
    const shown = await waitUntil('the dead holder to be found dead', async () => {
      const answer = await admin(n1, 'GET', path);
      return answer.status === 200 ? answer.body : null;
    }, CONVERGE_MS, 100);
    expect(shown).toEqual({ session: a.session, user: null, node: a.welcome.node, connected: false, transport: 'websocket', groups: ['kept'] });

    const back = await cluster.connect(1, `?session=${a.session}&resume=${encodeURIComponent(a.welcome.resumeToken as string)}`);
    expect(back.welcome.resumed).toBe(true);
    expect((await admin(n1, 'GET', path)).body).toMatchObject({ node: back.welcome.node, connected: true, groups: ['kept'] });
  });

  it('GET /admin/nodes lists both nodes with their figures (the other one asked over the bus), and null figures for a stalled one', async () => {
    const cluster = await startCluster(2, ENV);
    const [n0, n1] = cluster.nodes as [GatewayProcess, GatewayProcess];
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    const c = await cluster.connect(1);
    await a.ok('create', { group: 'one' });
    await b.ok('create', { group: 'two' });
    await c.ok('create', { group: 'three' });
    const node0 = a.welcome.node as string;
    const node1 = b.welcome.node as string;

    // Each node learns of the other at its next liveness check: wait until both list two nodes.
    for (const node of [n0, n1]) {
      await waitUntil('both nodes to see each other as live', async () => ((await admin(node, 'GET', '/admin/nodes')).body.nodes as unknown[]).length === 2, 60_000, 50);
    }
    expect(await admin(n0, 'GET', '/admin/nodes')).toEqual({
      status: 200,
      body: { nodes: [{ id: node0, self: true, connections: 1, groups: 1 }, { id: node1, self: false, connections: 2, groups: 2 }] },
    });
    expect((await admin(n1, 'GET', '/admin/nodes')).body).toEqual({
      nodes: [{ id: node1, self: true, connections: 2, groups: 2 }, { id: node0, self: false, connections: 1, groups: 1 }],
    });

    // A stalled node cannot answer: it is shown with null figures (or, once found dead, not at all), and the answer
    // still comes (the wait for it is bounded).
    const pid = n1.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      const { status, body } = await admin(n0, 'GET', '/admin/nodes');
      expect(status).toBe(200);
      const nodes = body.nodes as Array<Record<string, unknown>>;
      expect(nodes[0]).toEqual({ id: node0, self: true, connections: 1, groups: 1 });
      for (const other of nodes.slice(1)) expect(other).toEqual({ id: node1, self: false, connections: null, groups: null });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});
