import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_TTL_SECONDS } from '@rooms-kit/contract';
import { RoomsError } from '../../src/index.js';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

/** The longest ttl a client may ask for, in ms (about 24.8 days). */
const LONGEST_TTL_MS = MAX_TTL_SECONDS * 1000;

describe('NodeManager: groups a session may have created (maxCreatedGroupsPerSession)', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('refuses the 20,000-empty-groups attempt of one session at the bound: 100 created, the rest FORBIDDEN', async () => {
    const { node } = await nodes.start({ id: 'A', maxCreatedGroupsPerSession: 100 });
    await registerAll(node, 's1');
    let created = 0;
    const refusals = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      try {
        await node.create('s1', { group: `empty-${i}`, join: false, allowEmpty: true, ttlMs: LONGEST_TTL_MS });
        created++;
      } catch (error) {
        const code = error instanceof RoomsError ? `${error.code}: ${error.message}` : String(error);
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
      }
    }
    expect(created).toBe(100);
    expect([...refusals]).toEqual([['FORBIDDEN: a session may have created at most 100 groups that still exist', 19_900]]);
    // The last accepted was the 100th, the first refused the 101st; nothing of the refused ones exists.
    const listed = await node.listGroups();
    expect(listed).toHaveLength(100);
    expect(listed).toContain('empty-99');
    expect(listed).not.toContain('empty-100');
    expect(node.stats().groups).toEqual({ created: 100, active: 0, 'empty-grace': 0 });
  });

  it('counts joined creates too, frees a slot when a created group is discarded, and leaves other sessions alone', async () => {
    const { node } = await nodes.start({ id: 'A', maxCreatedGroupsPerSession: 2 });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g1' });
    await node.create('s1', { group: 'g2', join: false, allowEmpty: true });
    await expectRoomsError(node.create('s1', { group: 'g3' }), 'FORBIDDEN');
    await expectRoomsError(node.create('s1', { group: 'g3', join: false, allowEmpty: true }), 'FORBIDDEN');
    expect(await node.listGroups()).toEqual(['g1', 'g2']);
    expect(node.groupsOf('s1').groups).toEqual(['g1']);
    // Another session has its own count; joining groups is not creating them.
    await node.create('s2', { group: 'h1' });
    await node.join('s1', 'h1');
    // Leaving a created group does not free its slot: the group still exists.
    await node.leave('s1', 'g1');
    await expectRoomsError(node.create('s1', { group: 'g3' }), 'FORBIDDEN');
    await node.discard('g2');
    await node.create('s1', { group: 'g3' });
    await expectRoomsError(node.create('s1', { group: 'g4' }), 'FORBIDDEN');
  });

  it('frees the slot when the created group ends with its grace', async () => {
    const { node } = await nodes.start({ id: 'A', maxCreatedGroupsPerSession: 1, emptyGraceMs: 20 });
    await registerAll(node, 's1');
    await node.create('s1', { group: 'short', join: false, allowEmpty: true });
    await expectRoomsError(node.create('s1', { group: 'next' }), 'FORBIDDEN');
    await expect.poll(() => node.listGroups(), { timeout: 5000 }).toEqual([]);
    await node.create('s1', { group: 'next' });
  });

  it('does not overshoot with concurrent creates of one session, and a refused hook frees its reservation', async () => {
    const { node } = await nodes.start({ id: 'A', maxCreatedGroupsPerSession: 3 });
    await registerAll(node, 's1');
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => node.create('s1', { group: `c${i}` })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    for (const outcome of outcomes.filter((o) => o.status === 'rejected')) expect(outcome.reason).toMatchObject({ code: 'FORBIDDEN' });
    expect(await node.listGroups()).toHaveLength(3);

    const { node: other } = await nodes.start({ id: 'B', maxCreatedGroupsPerSession: 1 });
    await registerAll(other, 't1');
    const remove = other.hooks.before('create', () => {
      throw new RoomsError('FORBIDDEN', 'not now');
    });
    await expectRoomsError(other.create('t1', { group: 'refused' }), 'FORBIDDEN');
    remove();
    await other.create('t1', { group: 'accepted' });
  });

  it('is unlimited by default (and with 0)', async () => {
    const { node } = await nodes.start({ id: 'A', maxCreatedGroupsPerSession: 0 });
    await registerAll(node, 's1');
    for (let i = 0; i < 150; i++) await node.create('s1', { group: `u${i}`, join: false, allowEmpty: true });
    expect(await node.listGroups()).toHaveLength(150);
  });
});

describe('NodeManager: groups a node supervises (maxGroups)', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('refuses a create past the bound with UNAVAILABLE (temporary), server-side creates too, and not joins', async () => {
    const { node } = await nodes.start({ id: 'A', maxGroups: 5, maxCreatedGroupsPerSession: 2 });
    const { node: b } = await nodes.start({ id: 'B' });
    await registerAll(node, 's1', 's2', 's3');
    await registerAll(b, 'b1');
    await node.create('s1', { group: 'g1' });
    await node.create('s1', { group: 'g2' });
    await node.create('s2', { group: 'g3' });
    await node.create(null, { group: 'g4', join: false, allowEmpty: true });
    await node.create('s3', { group: 'g5', join: false, allowEmpty: true }); // the 5th: the last accepted
    const error = await expectRoomsError(node.create('s3', { group: 'g6' }), 'UNAVAILABLE');
    expect(error.temporary).toBe(true);
    expect(error.message).toBe('this node holds its maximum of 5 groups; try again later');
    await expectRoomsError(node.create(null, { group: 'g6', join: false, allowEmpty: true }), 'UNAVAILABLE');
    expect(await node.listGroups()).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    // Another node has its own bound; a group it created can still be joined from here.
    await b.create('b1', { group: 'elsewhere' });
    await node.join('s3', 'elsewhere');
    expect(node.groupsOf('s3').groups).toEqual(['elsewhere']);
    // A discarded group makes room again.
    await node.discard('g4');
    await node.discard('elsewhere');
    await node.create('s3', { group: 'g6' });
  });

  it('does not overshoot with concurrent creates of many sessions', async () => {
    const { node } = await nodes.start({ id: 'A', maxGroups: 4 });
    const sessions = Array.from({ length: 12 }, (_, i) => `s${i}`);
    await registerAll(node, ...sessions);
    const outcomes = await Promise.allSettled(sessions.map((s) => node.create(s, { group: `of-${s}` })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(4);
    expect(await node.listGroups()).toHaveLength(4);
  });
});
