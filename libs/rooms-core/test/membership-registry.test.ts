import { describe, expect, it } from 'vitest';
import { MembershipRegistry } from '../src/index.js';

/** Checks that the two indexes agree for the given sessions and groups. */
function expectConsistent(registry: MembershipRegistry, sessions: string[], groups: string[]): void {
  for (const group of groups) {
    for (const session of registry.sessionsOf(group)) expect(registry.groupsOf(session)).toContain(group);
  }
  for (const session of sessions) {
    for (const group of registry.groupsOf(session)) {
      expect(registry.sessionsOf(group).has(session)).toBe(true);
      expect(registry.has(group, session)).toBe(true);
    }
  }
}

describe('MembershipRegistry', () => {
  it('keeps the group and session indexes consistent', () => {
    const registry = new MembershipRegistry();
    registry.register('a');
    registry.register('b');
    expect(registry.add('g1', 'a')).toBe(true);
    expect(registry.add('g1', 'b')).toBe(true);
    expect(registry.add('g2', 'a')).toBe(true);
    expect([...registry.sessionsOf('g1')]).toEqual(['a', 'b']);
    expect([...registry.sessionsOf('g2')]).toEqual(['a']);
    expect(registry.groupsOf('a')).toEqual(['g1', 'g2']);
    expect(registry.groupsOf('b')).toEqual(['g1']);
    expect(registry.has('g2', 'b')).toBe(false);
    expect(registry.sessionCount).toBe(2);
    expect(registry.groupCount).toBe(2);
    expectConsistent(registry, ['a', 'b'], ['g1', 'g2']);
  });

  it('refuses to add a session that is not registered and creates no group entry', () => {
    const registry = new MembershipRegistry();
    expect(registry.add('g', 'ghost')).toBe(false);
    expect(registry.groupCount).toBe(0);
    expect(registry.sessionsOf('g').size).toBe(0);
    expect(registry.isRegistered('ghost')).toBe(false);
  });

  it('adds a session to a group once however often it is added', () => {
    const registry = new MembershipRegistry();
    registry.register('a');
    registry.add('g', 'a');
    registry.add('g', 'a');
    registry.register('a');
    expect(registry.groupsOf('a')).toEqual(['g']);
    expect(registry.sessionsOf('g').size).toBe(1);
  });

  it('unregister removes the session from every group and keeps the other sessions', () => {
    const registry = new MembershipRegistry();
    for (const session of ['a', 'b']) registry.register(session);
    registry.add('g1', 'a');
    registry.add('g2', 'a');
    registry.add('g1', 'b');
    expect(registry.unregister('a')).toEqual(['g1', 'g2']);
    expect(registry.isRegistered('a')).toBe(false);
    expect(registry.groupsOf('a')).toEqual([]);
    expect([...registry.sessionsOf('g1')]).toEqual(['b']);
    expect(registry.sessionsOf('g2').size).toBe(0);
    expect(registry.groupCount).toBe(1);
    expect(registry.sessionCount).toBe(1);
    expect(registry.unregister('a')).toEqual([]);
    expectConsistent(registry, ['a', 'b'], ['g1', 'g2']);
  });

  it('dropGroup removes every session of the group and nothing else', () => {
    const registry = new MembershipRegistry();
    for (const session of ['a', 'b']) registry.register(session);
    registry.add('g1', 'a');
    registry.add('g1', 'b');
    registry.add('g2', 'b');
    expect(registry.dropGroup('g1').sort()).toEqual(['a', 'b']);
    expect(registry.sessionsOf('g1').size).toBe(0);
    expect(registry.groupsOf('a')).toEqual([]);
    expect(registry.groupsOf('b')).toEqual(['g2']);
    expect(registry.isRegistered('a')).toBe(true);
    expect(registry.groupCount).toBe(1);
    expect(registry.dropGroup('g1')).toEqual([]);
    expectConsistent(registry, ['a', 'b'], ['g1', 'g2']);
  });

  it('tracks latest: the newest group touched, falling back to the newest group still joined when it is left', () => {
    const registry = new MembershipRegistry();
    registry.register('a');
    expect(registry.latestOf('a')).toBeNull();
    registry.add('g1', 'a');
    registry.touch('a', 'g1');
    registry.add('g2', 'a');
    registry.touch('a', 'g2');
    expect(registry.latestOf('a')).toBe('g2');
    // A group created with join:false is latest without being joined.
    registry.touch('a', 'solo');
    expect(registry.latestOf('a')).toBe('solo');
    expect(registry.groupsOf('a')).toEqual(['g1', 'g2']);
    registry.touch('a', 'g2');
    registry.remove('g2', 'a');
    expect(registry.latestOf('a')).toBe('g1');
    registry.remove('g1', 'a');
    expect(registry.latestOf('a')).toBeNull();
    registry.touch('ghost', 'g1');
    expect(registry.latestOf('ghost')).toBeNull();
  });

  it('leaving a group that is not latest keeps latest', () => {
    const registry = new MembershipRegistry();
    registry.register('a');
    registry.add('g1', 'a');
    registry.add('g2', 'a');
    registry.touch('a', 'g2');
    registry.remove('g1', 'a');
    expect(registry.latestOf('a')).toBe('g2');
  });

  it('removes a group entry with its last session', () => {
    const registry = new MembershipRegistry();
    for (const session of ['a', 'b']) registry.register(session);
    registry.add('g', 'a');
    registry.add('g', 'b');
    expect(registry.remove('g', 'a')).toBe(true);
    expect(registry.groupCount).toBe(1);
    expect(registry.remove('g', 'b')).toBe(true);
    expect(registry.groupCount).toBe(0);
    expect(registry.sessionsOf('g').size).toBe(0);
    expect(registry.remove('g', 'b')).toBe(false);
    expect(registry.sessionCount).toBe(2);
  });
});
