import { describe, expect, it, vi } from 'vitest';
import { registerAll, useFakeTimerNodes } from '../support/nodes.js';

const WINDOW = 10_000;

describe('NodeManager suspend and resume (fake timers)', () => {
  const nodes = useFakeTimerNodes();

  /** A node with s1 (plain) and s2 (resumable, token hash 'h2') both in group g. */
  async function twoMembers(id = 'A') {
    const started = await nodes.start({ id, resumeWindowMs: WINDOW, emptyGraceMs: 1000 });
    await registerAll(started.node, 's1');
    await started.node.registerSession('s2', { tokenHash: 'h2' });
    await started.node.create('s1', { group: 'g' });
    await started.node.join('s2', 'g');
    started.delivery.clear();
    return started;
  }

  it("a suspended session's fellow members see nothing", async () => {
    const { node, delivery } = await twoMembers();
    await node.suspendSession('s2', { g: 0 });
    await vi.advanceTimersByTimeAsync(WINDOW - 1);
    expect(delivery.eventsFor('s1')).toEqual([]);
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1', 's2']);
  });

  it('after the window without a resume, members get left with reason disconnect', async () => {
    const { node, delivery } = await twoMembers();
    await node.suspendSession('s2', { g: 0 });
    await vi.advanceTimersByTimeAsync(WINDOW - 1);
    expect(delivery.eventsOf('s1', 'left')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(delivery.eventsFor('s1')).toEqual([{ ev: 'left', group: 'g', member: { id: 's2', node: 'A' }, reason: 'disconnect' }]);
    expect(node.hasSession('s2')).toBe(false);
    expect(await node.resumeSession('s2', 'h2', 'h3')).toBeNull();
  });

  it('a resume within the window returns the missed messages in order and others get rejoined', async () => {
    const { node, delivery } = await twoMembers();
    await node.broadcast('s1', 'g', 'seen');
    await node.suspendSession('s2', { g: 1 });
    await node.broadcast('s1', 'g', 'missed-1');
    await node.announce('g', 'missed-2');
    await node.broadcast('s1', 'g', 'missed-3');
    await vi.advanceTimersByTimeAsync(WINDOW - 1);
    delivery.clear();
    const result = await node.resumeSession('s2', 'h2', 'h2-new');
    expect(result).toEqual({
      groups: [
        {
          group: 'g',
          since: 1,
          complete: true,
          messages: [
            { group: 'g', from: 's1', data: 'missed-1', offset: 2 },
            { group: 'g', from: null, data: 'missed-2', offset: 3 },
            { group: 'g', from: 's1', data: 'missed-3', offset: 4 },
          ],
        },
      ],
      lost: [],
    });
    expect(delivery.eventsFor('s1')).toEqual([{ ev: 'rejoined', group: 'g', member: { id: 's2', node: 'A' } }]);
    expect(delivery.eventsFor('s2')).toEqual([]);
    // The window timer is gone: no left later.
    await vi.advanceTimersByTimeAsync(2 * WINDOW);
    expect(delivery.eventsOf('s1', 'left')).toEqual([]);
    // The new token hash is now the one that resumes.
    await node.suspendSession('s2', { g: 4 });
    expect(await node.resumeSession('s2', 'h2', 'x')).toBeNull();
    expect(await node.resumeSession('s2', 'h2-new', 'h2-newer')).toMatchObject({ groups: [{ group: 'g', messages: [] }] });
  });

  it('a resume with a wrong token hash returns null and changes nothing', async () => {
    const { node, delivery } = await twoMembers();
    await node.suspendSession('s2', { g: 0 });
    expect(await node.resumeSession('s2', 'wrong', 'h3')).toBeNull();
    expect(await node.resumeSession('unknown', 'h2', 'h3')).toBeNull();
    expect(delivery.log).toEqual([]);
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect(delivery.eventsOf('s1', 'left').map((e) => e.reason)).toEqual(['disconnect']);
  });

  it('a session still connected on this node is taken over by a resume with its token (no left, holder told)', async () => {
    const ended: Array<[string, string]> = [];
    const a = await nodes.start({ id: 'A', resumeWindowMs: WINDOW, onSessionEnded: (s, r) => ended.push([s, r]) });
    await registerAll(a.node, 's1');
    await a.node.registerSession('s2', { tokenHash: 'h2' });
    await a.node.create('s1', { group: 'g' });
    await a.node.join('s2', 'g');
    a.delivery.clear();
    expect(await a.node.resumeSession('s2', 'wrong', 'h3')).toBeNull();
    expect(ended).toEqual([]);
    const resumed = await a.node.resumeSession('s2', 'h2', 'h3');
    expect(resumed?.groups.map((g) => g.group)).toEqual(['g']);
    expect(ended).toEqual([['s2', 'taken']]);
    expect(a.delivery.eventsOf('s1', 'left')).toEqual([]);
    expect(a.delivery.eventsOf('s1', 'rejoined')).toMatchObject([{ member: { id: 's2' } }]);
  });

  it('a session connected on another node is taken over there: the old holder forgets it without left', async () => {
    const ended: Array<[string, string]> = [];
    const a = await nodes.start({ id: 'A', resumeWindowMs: WINDOW, onSessionEnded: (s, r) => ended.push([s, r]) });
    const b = await nodes.start({ id: 'B', resumeWindowMs: WINDOW });
    await registerAll(a.node, 's1');
    await a.node.registerSession('s2', { tokenHash: 'h2' });
    await a.node.create('s1', { group: 'g' });
    await a.node.join('s2', 'g');
    await b.node.resumeSession('s2', 'h2', 'h3');
    expect(ended).toEqual([['s2', 'taken']]);
    expect(a.node.hasSession('s2')).toBe(false);
    expect(await a.node.members('g')).toContainEqual({ id: 's2', node: 'B' });
    expect(a.delivery.eventsOf('s1', 'left')).toEqual([]);
  });

  it('with an expected user, a session of another user is refused and nothing changes', async () => {
    const a = await nodes.start({ id: 'A', resumeWindowMs: WINDOW });
    await a.node.registerSession('carol', { user: 'carol', tokenHash: 'hc' });
    await a.node.suspendSession('carol', {});
    expect(await a.node.resumeSession('carol', 'hc', 'h2', 'mallory')).toBeNull();
    expect(await a.node.resumeSession('carol', 'hc', 'h2', 'carol')).not.toBeNull();
  });

  it('kick reaches a session held by another node: members see left kicked and the holder is told', async () => {
    const ended: Array<[string, string]> = [];
    const a = await nodes.start({ id: 'A', resumeWindowMs: WINDOW, onSessionEnded: (s, r) => ended.push([s, r]) });
    const b = await nodes.start({ id: 'B', resumeWindowMs: WINDOW });
    await a.node.registerSession('s2', { tokenHash: 'h2' });
    await registerAll(b.node, 'b1');
    await b.node.create('b1', { group: 'g' });
    await a.node.join('s2', 'g');
    expect(await b.node.kick('s2')).toBe(true);
    await vi.waitFor(() => expect(ended).toEqual([['s2', 'kicked']]));
    expect(b.delivery.eventsOf('b1', 'left')).toMatchObject([{ member: { id: 's2' }, reason: 'kicked' }]);
    expect(a.node.hasSession('s2')).toBe(false);
    expect(await b.node.kick('s2')).toBe(false);
    expect(await b.node.kick('nobody')).toBe(false);
  });

  it('a session may be in at most maxGroupsPerSession groups', async () => {
    const a = await nodes.start({ id: 'A', maxGroupsPerSession: 2 });
    await registerAll(a.node, 's1', 's2');
    await a.node.create('s1', { group: 'g1' });
    await a.node.create('s1', { group: 'g2' });
    await a.node.create('s2', { group: 'g3' });
    await expect(a.node.join('s1', 'g3')).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'a session may be in at most 2 groups' });
    await expect(a.node.create('s1', { group: 'g4' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await a.node.join('s1', 'g1')).already).toBe(true);
    await a.node.create('s1', { group: 'g5', join: false, allowEmpty: true });
  });

  it('after its node died, a session resumes on another node and learns which groups were discarded meanwhile', async () => {
    const a = await twoMembers('A');
    const b = await nodes.start({ id: 'B', resumeWindowMs: WINDOW });
    await registerAll(b.node, 'b1');
    await a.node.create('s2', { group: 'solo' });
    await b.node.join('b1', 'g');
    nodes.store.killNode('A');
    await b.node.discard('solo');
    b.delivery.clear();
    await vi.advanceTimersByTimeAsync(WINDOW - 1);
    const result = await b.node.resumeSession('s2', 'h2', 'h3');
    expect(result?.lost).toEqual(['solo']);
    expect(result?.groups.map((g) => g.group)).toEqual(['g']);
    expect(b.delivery.eventsFor('b1')).toEqual([{ ev: 'rejoined', group: 'g', member: { id: 's2', node: 'B' } }]);
    expect((await b.node.members('g')).map((m) => [m.id, m.node])).toEqual([
      ['b1', 'B'],
      ['s2', 'B'],
    ]);
  });

  it('after its node died, a session can no longer be resumed once the window has passed', async () => {
    await twoMembers('A');
    const b = await nodes.start({ id: 'B', resumeWindowMs: WINDOW });
    nodes.store.killNode('A');
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect(await b.node.resumeSession('s2', 'h2', 'h3')).toBeNull();
  });

  it('a resume on a second node moves the member there and the first node forgets the session', async () => {
    const a = await twoMembers('A');
    const b = await nodes.start({ id: 'B', resumeWindowMs: WINDOW });
    await a.node.suspendSession('s2', { g: 0 });
    await a.node.broadcast('s1', 'g', 'missed');
    a.delivery.clear();
    const result = await b.node.resumeSession('s2', 'h2', 'h2b');
    expect(result?.groups).toEqual([{ group: 'g', since: 0, complete: true, messages: [{ group: 'g', from: 's1', data: 'missed', offset: 1 }] }]);
    expect(a.delivery.eventsFor('s1')).toEqual([{ ev: 'rejoined', group: 'g', member: { id: 's2', node: 'B' } }]);
    expect(await a.node.members('g')).toEqual([
      { id: 's1', node: 'A' },
      { id: 's2', node: 'B' },
    ]);
    expect(a.node.hasSession('s2')).toBe(false);
    expect(a.node.registry.sessionsOf('g').has('s2')).toBe(false);
    expect(b.node.hasSession('s2')).toBe(true);
    expect(b.node.groupsOf('s2').groups).toEqual(['g']);
    // Messages now reach s2 through B only.
    await a.node.broadcast('s1', 'g', 'after');
    expect(b.delivery.eventsOf('s2', 'message').map((m) => m.data)).toEqual(['after']);
    expect(a.delivery.eventsFor('s2')).toEqual([]);
    // A's window timer for s2 is gone: no left when it would have ended.
    await vi.advanceTimersByTimeAsync(2 * WINDOW);
    expect(a.delivery.eventsOf('s1', 'left')).toEqual([]);
    expect((await b.node.members('g')).map((m) => m.id)).toEqual(['s1', 's2']);
  });
});
