import { describe, expect, it } from 'vitest';
import type { GatewayProcess } from '../src/index.js';
import { startCluster } from './cluster-harness.js';

// Issue 13, item 9: a node stalled (SIGSTOP) longer than ROOMS_NODE_TTL_MS is found dead, its members leave with
// `node-down`; when it wakes (SIGCONT) it re-asserts them, and the other members must get `rejoined` (PROTOCOL.md:
// "also one that was removed with node-down meanwhile"), not `joined`. The stalled node's client keeps its connection
// and its membership, and hears nothing about itself.

/** A short liveness, so the stall is found quickly (the default is 3 s). */
const NODE_TTL_MS = 1000;
/** Bound of every wait on a loaded machine. */
const WAIT_MS = 60_000;

describe('a node stalled past its liveness comes back', () => {
  it('the other node’s member gets left node-down, then rejoined (not joined), and the stalled client stays connected and a member', async () => {
    const cluster = await startCluster(2, { ROOMS_NODE_TTL_MS: String(NODE_TTL_MS) });
    const a = await cluster.connect(0);
    const b = await cluster.connect(1);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await a.event('joined', { group: 'g' });
    const stalled = cluster.nodes[0] as GatewayProcess;
    const pid = stalled.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      await b.waitFor((m) => m.ev === 'left' && (m.member as { id: string }).id === a.session, 'left of the stalled member', WAIT_MS);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const left = b.events('left').find((m) => (m.member as { id: string }).id === a.session);
    expect(left?.reason).toBe('node-down');
    const back = await b.waitFor((m) => (m.ev === 'rejoined' || m.ev === 'joined') && (m.member as { id: string }).id === a.session, 'the stalled member back', WAIT_MS);
    expect(back).toMatchObject({ ev: 'rejoined', group: 'g', member: { id: a.session, node: a.welcome.node } });
    // The stalled client kept its connection and its membership: a broadcast each way arrives.
    const fromB = await b.ok('broadcast', { group: 'g', data: 'from b' }, WAIT_MS);
    await a.waitFor((m) => m.ev === 'message' && m.offset === fromB.offset, 'b’s broadcast on a', WAIT_MS);
    const fromA = await a.ok('broadcast', { group: 'g', data: 'from a' }, WAIT_MS);
    await b.waitFor((m) => m.ev === 'message' && m.offset === fromA.offset, 'a’s broadcast on b', WAIT_MS);
    expect(a.closeInfo).toBeNull();
    expect(a.messages.filter((m) => m.ev === 'joined' || m.ev === 'left' || m.ev === 'rejoined').map((m) => m.ev)).toEqual(['joined']);
    expect(b.events('joined')).toEqual([]);
  });
});
