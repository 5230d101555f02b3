import { describe, expect, it } from 'vitest';
import { LivenessPolicy } from '../../src/index.js';
import type { LivenessObservation } from '../../src/index.js';

// Issue 13 (chaos run): when the store comes back without its data, every liveness record and the list of known nodes
// are gone at once. The nodes live before are awaited for a TTL (kept in the live view, judged by nobody); those still
// without a record then died while the store was away.

function setup(nodeTtlMs = 1000) {
  const clock = { now: 1_000_000 };
  const policy = new LivenessPolicy({ nodeId: 'me', nodeTtlMs, now: () => clock.now });
  const seen = (present: Record<string, boolean>, recentlyCleaned: string[] = []): LivenessObservation => ({
    at: clock.now,
    selfPresent: true,
    others: Object.entries(present).map(([node, alive]) => ({ node, present: alive })),
    recentlyCleaned,
  });
  return { clock, policy, seen };
}

describe('LivenessPolicy after the store lost its data', () => {
  it('awaits the nodes it knew for a TTL, then finds dead (once) those that never wrote their record again', () => {
    const { clock, policy, seen } = setup(1000);
    policy.assess(seen({ b: true, c: true }));
    policy.storeReplaced();
    expect(policy.storeRecentlyReplaced()).toBe(true);
    // The store is empty: nobody is known, yet b and c stay live while awaited.
    expect(policy.assess(seen({}))).toEqual({ selfMissing: false, down: [], dead: [], prune: false });
    expect(policy.liveNodes()).toEqual(['me', 'b', 'c']);
    clock.now += 600;
    expect(policy.assess(seen({ b: true })).down).toEqual([]);
    clock.now += 399;
    expect(policy.assess(seen({ b: true })).down).toEqual([]);
    expect(policy.liveNodes()).toEqual(['me', 'b', 'c']);
    clock.now += 1;
    expect(policy.storeRecentlyReplaced()).toBe(false);
    expect(policy.assess(seen({ b: true }))).toMatchObject({ down: ['c'], dead: ['c'] });
    expect(policy.liveNodes()).toEqual(['me', 'b']);
    // Still dead until a cleanup lists it as recently dead; reported once.
    expect(policy.assess(seen({ b: true }))).toMatchObject({ down: [], dead: ['c'] });
    expect(policy.assess(seen({ b: true }, ['c']))).toMatchObject({ down: [], dead: [] });
  });

  it('a node that writes its record within the TTL is never judged; one that comes back after being found dead is live again', () => {
    const { clock, policy, seen } = setup(1000);
    policy.assess(seen({ b: true, c: true }));
    policy.storeReplaced();
    clock.now += 500;
    policy.assess(seen({ b: true }));
    clock.now += 500;
    expect(policy.assess(seen({ b: true }))).toMatchObject({ down: ['c'], dead: ['c'] });
    clock.now += 100;
    expect(policy.assess(seen({ b: true, c: true }))).toMatchObject({ down: [], dead: [] });
    expect(policy.liveNodes()).toEqual(['me', 'b', 'c']);
  });
});
