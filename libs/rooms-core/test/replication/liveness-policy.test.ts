import { describe, expect, it } from 'vitest';
import { defaultCheckMs, LivenessPolicy } from '../../src/index.js';
import type { LivenessObservation } from '../../src/index.js';

/** A policy of node `me` on a clock the test sets. */
function setup(nodeTtlMs = 3000) {
  const clock = { now: 1_000_000 };
  const policy = new LivenessPolicy({ nodeId: 'me', nodeTtlMs, now: () => clock.now });
  const seen = (present: Record<string, boolean>, recentlyCleaned: string[] = [], selfPresent = true): LivenessObservation => ({
    at: clock.now,
    selfPresent,
    others: Object.entries(present).map(([node, alive]) => ({ node, present: alive })),
    recentlyCleaned,
  });
  return { clock, policy, seen };
}

describe('LivenessPolicy', () => {
  it('derives the periods from the node TTL: a record outlives two checks less than the TTL', () => {
    const { policy } = setup(3000);
    expect(policy).toMatchObject({ checkMs: 300, heartbeatMs: 750, recordLifetimeMs: 2400, deadRetentionMs: 60_000 });
    expect(new LivenessPolicy({ nodeId: 'x', nodeTtlMs: 100, now: Date.now })).toMatchObject({ checkMs: 50, heartbeatMs: 25, recordLifetimeMs: 50 });
    expect(new LivenessPolicy({ nodeId: 'x', nodeTtlMs: 20_000, now: Date.now }).deadRetentionMs).toBe(200_000);
    expect(defaultCheckMs(10_000)).toBe(1000);
    expect(new LivenessPolicy({ nodeId: 'x', nodeTtlMs: 600, checkMs: 30, heartbeatMs: 50, now: Date.now })).toMatchObject({ checkMs: 30, heartbeatMs: 50, recordLifetimeMs: 540 });
  });

  it('lists this node first and the others sorted; reports a dead node once and cleans up after it on every check', () => {
    const { policy, seen } = setup();
    expect(policy.liveNodes()).toEqual(['me']);
    expect(policy.assess(seen({ c: true, b: true }))).toEqual({ selfMissing: false, down: [], dead: [], prune: false });
    expect(policy.liveNodes()).toEqual(['me', 'b', 'c']);
    expect(policy.assess(seen({ c: true, b: false }))).toMatchObject({ down: ['b'], dead: ['b'] });
    expect(policy.liveNodes()).toEqual(['me', 'c']);
    expect(policy.assess(seen({ c: true, b: false }))).toMatchObject({ down: [], dead: ['b'] });
    // Cleaned up (forgotten from the known nodes) but still listed as recently dead: not reported again.
    expect(policy.assess(seen({ c: true }, ['b']))).toMatchObject({ down: [], dead: [] });
  });

  it('reports a node another survivor cleaned up before this one saw it dead, never itself or a live one', () => {
    const { policy, seen } = setup();
    expect(policy.assess(seen({ c: true }, ['x', 'me', 'c'])).down).toEqual(['x']);
    // Out of the retention: forgotten, so a later death of the same id would be reported again.
    expect(policy.assess(seen({ c: true })).down).toEqual([]);
    expect(policy.assess(seen({ c: true }, ['x'])).down).toEqual(['x']);
    expect(policy.retainedSince(5_000_000)).toBe(5_000_000 - 60_000);
  });

  it('judges nobody for a TTL after a reconnect, still updating the live view', () => {
    const { clock, policy, seen } = setup(1000);
    policy.holdVerdicts();
    clock.now += 999;
    expect(policy.assess(seen({ b: false, c: true }))).toEqual({ selfMissing: false, down: [], dead: [], prune: false });
    expect(policy.liveNodes()).toEqual(['me', 'c']);
    clock.now += 1;
    expect(policy.assess(seen({ b: false, c: true }))).toMatchObject({ down: ['b'], dead: ['b'] });
  });

  it('when its own record is gone, judges nobody and holds verdicts for a TTL', () => {
    const { clock, policy, seen } = setup(1000);
    expect(policy.assess(seen({ b: false }, [], false))).toEqual({ selfMissing: true, down: [], dead: [], prune: false });
    clock.now += 500;
    expect(policy.assess(seen({ b: false })).dead).toEqual([]);
    clock.now += 500;
    expect(policy.assess(seen({ b: false })).dead).toEqual(['b']);
  });

  it('after its own expiry, waits at most three TTLs for the cleanup of this node', () => {
    const { clock, policy, seen } = setup(1000);
    const deadline = policy.selfExpired();
    expect(deadline).toBe(clock.now + 3000);
    expect(policy.assess(seen({ b: false })).dead).toEqual([]);
    clock.now += 2999;
    expect(policy.before(deadline)).toBe(true);
    clock.now += 1;
    expect(policy.before(deadline)).toBe(false);
  });

  it('leaves a node found gone between checks out of the live view until the next check, never itself', () => {
    const { policy, seen } = setup();
    policy.assess(seen({ b: true, c: true }));
    policy.gone('b');
    policy.gone('me');
    expect(policy.liveNodes()).toEqual(['me', 'c']);
    policy.assess(seen({ b: true, c: true }));
    expect(policy.liveNodes()).toEqual(['me', 'b', 'c']);
  });

  it('asks for a prune of the recently dead every 50 checks that judged', () => {
    const { policy, seen } = setup();
    const prunes = Array.from({ length: 100 }, () => policy.assess(seen({})).prune);
    expect(prunes.filter(Boolean)).toHaveLength(2);
    expect(prunes[49]).toBe(true);
    expect(prunes[99]).toBe(true);
  });
});
