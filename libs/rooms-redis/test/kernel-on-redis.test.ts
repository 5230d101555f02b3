import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeManager } from '@rooms-kit/core';
import type { DeliveryEvent, DeliveryPort, SessionId } from '@rooms-kit/core';
import { RedisBackend } from '../src/index.js';
import { RedisServer } from '@rooms-kit/testing';
import { nodeId } from './support/nodes.js';
import { waitUntil } from '@rooms-kit/testing';

/** Records what a node delivered, per session. */
class Deliveries implements DeliveryPort {
  readonly log: Array<{ event: DeliveryEvent; to: SessionId[] }> = [];
  deliver(event: DeliveryEvent, to: ReadonlySet<SessionId>, except: SessionId | null): void {
    this.log.push({ event, to: [...to].filter((s) => s !== except) });
  }
  of(session: SessionId): DeliveryEvent[] {
    return this.log.filter((d) => d.to.includes(session)).map((d) => d.event);
  }
}

const server = new RedisServer();
const managers: NodeManager[] = [];
let test = 0;

beforeAll(() => server.start(), 90_000);
afterAll(() => server.stop());
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

interface KernelNode {
  node: NodeManager;
  delivery: Deliveries;
  /** Sessions the kernel ended itself (`onSessionEnded`). */
  ended: Array<[SessionId, string]>;
}

/** Two kernels on Redis, with a key prefix of their own. */
async function startTwo(): Promise<[KernelNode, KernelNode]> {
  test++;
  const [a, b] = await Promise.all(
    [0, 1].map(async () => {
      const backend = new RedisBackend({ url: server.url, nodeId: nodeId('k'), keyPrefix: `kernel${test}:`, nodeTtlMs: 1000 });
      const delivery = new Deliveries();
      const ended: Array<[SessionId, string]> = [];
      const node = new NodeManager({ delivery, backend, emptyGraceMs: 200, onSessionEnded: (session, reason) => ended.push([session, reason]) });
      managers.push(node);
      await node.start();
      return { node, delivery, ended };
    }),
  );
  return [a as KernelNode, b as KernelNode];
}

describe('NodeManager on RedisBackend', () => {
  it('one view across nodes: joins, broadcasts with the same offsets, leaves', async () => {
    const [a, b] = await startTwo();
    await a.node.registerSession('s1');
    await b.node.registerSession('b1');
    await a.node.create('s1', { group: 'g' });
    await b.node.join('b1', 'g', { data: 'hello' });
    // b's join is applied on a when its event arrives (one view "within a few milliseconds").
    await waitUntil('a sees b1 in members', async () => (await a.node.members('g')).length === 2);
    expect((await a.node.members('g')).map((m) => m.id)).toEqual(['s1', 'b1']);
    await waitUntil('s1 sees b1 join', () => a.delivery.of('s1').some((e) => e.ev === 'joined'));
    expect(a.delivery.of('s1')).toEqual([{ ev: 'joined', group: 'g', member: { id: 'b1', node: b.node.nodeId, data: 'hello' }, data: 'hello' }]);
    for (const text of ['one', 'two']) await a.node.broadcast('s1', 'g', text);
    expect(await b.node.broadcast('b1', 'g', 'three', { self: true })).toEqual({ recipients: 2, offset: 3 });
    const messages = (node: { delivery: Deliveries }, session: string) =>
      node.delivery.of(session).flatMap((e) => (e.ev === 'message' ? [[e.offset, e.data]] : []));
    await waitUntil('every message delivered', () => messages(b, 'b1').length === 3 && messages(a, 's1').length === 1);
    expect(messages(b, 'b1')).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect(messages(a, 's1')).toEqual([[3, 'three']]);
    await b.node.leave('b1', 'g');
    await waitUntil('s1 sees b1 leave', () => a.delivery.of('s1').some((e) => e.ev === 'left'));
    expect(await a.node.groupInfo('g')).toMatchObject({ size: 1, nodes: [a.node.nodeId] });
  });

  it('maxMembers holds under concurrent joins through two kernels', async () => {
    const [a, b] = await startTwo();
    await a.node.registerSession('owner');
    await a.node.create('owner', { group: 'cap', maxMembers: 4 });
    const sessions = Array.from({ length: 12 }, (_, i) => ({ node: i % 2 ? a.node : b.node, id: `u${i}` }));
    for (const s of sessions) await s.node.registerSession(s.id);
    const results = await Promise.allSettled(sessions.map((s) => s.node.join(s.id, 'cap')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(await b.node.members('cap')).toHaveLength(4);
  });

  it('a session suspended on one node resumes on another: members see rejoined, missed messages are replayed', async () => {
    const [a, b] = await startTwo();
    await a.node.registerSession('mover', { tokenHash: 'h1' });
    await a.node.registerSession('stay');
    await a.node.create('stay', { group: 'room' });
    await a.node.join('mover', 'room');
    await a.node.broadcast('stay', 'room', 'seen');
    await a.node.suspendSession('mover', { room: 1 });
    await a.node.broadcast('stay', 'room', 'missed');
    const resumed = await b.node.resumeSession('mover', 'h1', 'h2');
    expect(resumed).toEqual({ groups: [{ group: 'room', since: 1, messages: [{ group: 'room', from: 'stay', data: 'missed', offset: 2 }], complete: true }], lost: [] });
    await waitUntil('stay sees the rejoin', () => a.delivery.of('stay').some((e) => e.ev === 'rejoined'));
    expect((await b.node.members('room')).find((m) => m.id === 'mover')?.node).toBe(b.node.nodeId);
    expect(a.node.hasSession('mover')).toBe(false);
    await b.node.broadcast('mover', 'room', 'back');
    await waitUntil('stay gets the message', () => a.delivery.of('stay').some((e) => e.ev === 'message' && e.data === 'back'));
  });

  it('an emptied group is discarded once, cluster-wide, after its grace', async () => {
    const [a, b] = await startTwo();
    await a.node.registerSession('x');
    await b.node.registerSession('y');
    await a.node.create('x', { group: 'brief' });
    await b.node.join('y', 'brief');
    await a.node.leave('x', 'brief');
    await b.node.leave('y', 'brief');
    await waitUntil('the group to be discarded', async () => (await a.node.listGroups()).length === 0, 5000);
    await expect(b.node.members('brief')).rejects.toMatchObject({ code: 'GROUP_NOT_FOUND' });
  });

  it('a session still connected on one node resumed on another is taken over: the old holder is told over the bus', async () => {
    const [a, b] = await startTwo();
    await a.node.registerSession('stay');
    await a.node.registerSession('mover', { tokenHash: 'h1' });
    await a.node.create('stay', { group: 'room' });
    await a.node.join('mover', 'room');
    expect(await b.node.resumeSession('mover', 'h1', 'h2')).toMatchObject({ lost: [] });
    await waitUntil('a drops the taken session', () => a.ended.length > 0);
    expect(a.ended).toEqual([['mover', 'taken']]);
    expect(a.node.hasSession('mover')).toBe(false);
    await waitUntil('stay sees the rejoin', () => a.delivery.of('stay').some((e) => e.ev === 'rejoined'));
    expect(a.delivery.of('stay').filter((e) => e.ev === 'left')).toEqual([]);
  });

  it('a kick through one node ends a session held by the other before it resolves; a second kick finds nothing', async () => {
    const [a, b] = await startTwo();
    await a.node.registerSession('stay');
    await a.node.registerSession('victim', { tokenHash: 'h1' });
    await a.node.create('stay', { group: 'room' });
    await a.node.join('victim', 'room');
    expect(await b.node.kick('victim')).toBe(true);
    expect(a.ended).toEqual([['victim', 'kicked']]);
    expect(a.node.hasSession('victim')).toBe(false);
    await waitUntil('stay sees the kick', () => a.delivery.of('stay').some((e) => e.ev === 'left'));
    expect(a.delivery.of('stay').find((e) => e.ev === 'left')).toMatchObject({ member: { id: 'victim' }, reason: 'kicked' });
    expect(await b.node.kick('victim')).toBe(false);
    expect(await b.node.resumeSession('victim', 'h1', 'h2')).toBeNull();
  });
});
