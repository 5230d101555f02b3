import type { GroupId, SessionId } from './types.js';

const NO_SESSIONS: ReadonlySet<SessionId> = new Set();

interface SessionEntry {
  /** Created on the first join: most connections of a large deployment are idle (or in no group yet). */
  groups: Set<GroupId> | null;
  latest: GroupId | null;
}

const NO_GROUPS: ReadonlySet<GroupId> = new Set();

/**
 * MembershipRegistry: which of this node's sessions are in which groups, as two maps that index each other
 * (group -> sessions, session -> groups). Pure bookkeeping, no I/O and no events. A session must be registered
 * before it can be added to a group; a group's entry disappears with its last local session, in one place (`remove`).
 */
export class MembershipRegistry {
  private readonly byGroup = new Map<GroupId, Set<SessionId>>();
  private readonly bySession = new Map<SessionId, SessionEntry>();

  /** Registers a session with no group. Registering a known session changes nothing. */
  register(session: SessionId): void {
    if (!this.bySession.has(session)) this.bySession.set(session, { groups: null, latest: null });
  }

  /** True when the session is registered. */
  isRegistered(session: SessionId): boolean {
    return this.bySession.has(session);
  }

  /** Forgets a session and its memberships; returns the groups it was in. */
  unregister(session: SessionId): GroupId[] {
    const entry = this.bySession.get(session);
    if (!entry) return [];
    const groups = [...(entry.groups ?? NO_GROUPS)];
    for (const group of groups) this.removeFromGroup(group, session);
    this.bySession.delete(session);
    return groups;
  }

  /** Adds a registered session to a group; returns false when the session is not registered. */
  add(group: GroupId, session: SessionId): boolean {
    const entry = this.bySession.get(session);
    if (!entry) return false;
    (entry.groups ??= new Set()).add(group);
    let sessions = this.byGroup.get(group);
    if (!sessions) {
      sessions = new Set();
      this.byGroup.set(group, sessions);
    }
    sessions.add(session);
    return true;
  }

  /** Records the newest group a session joined or created (`groups` op's `latest`). */
  touch(session: SessionId, group: GroupId): void {
    const entry = this.bySession.get(session);
    if (entry) entry.latest = group;
  }

  /** Removes a session from a group; returns false when it was not in it. */
  remove(group: GroupId, session: SessionId): boolean {
    const entry = this.bySession.get(session);
    if (!entry?.groups?.delete(group)) return false;
    // `groups` keeps join order, so its last entry is the newest group the session is still in.
    if (entry.latest === group) entry.latest = lastOf(entry.groups);
    this.removeFromGroup(group, session);
    return true;
  }

  /** Removes every session of a group (the group was discarded); returns them. */
  dropGroup(group: GroupId): SessionId[] {
    const sessions = this.byGroup.get(group);
    if (!sessions) return [];
    const list = [...sessions];
    for (const session of list) this.remove(group, session);
    return list;
  }

  /** The live set of this node's sessions in a group (empty when none). Callers must not mutate it. */
  sessionsOf(group: GroupId): ReadonlySet<SessionId> {
    return this.byGroup.get(group) ?? NO_SESSIONS;
  }

  /** True when the session is in the group on this node. */
  has(group: GroupId, session: SessionId): boolean {
    return this.bySession.get(session)?.groups?.has(group) ?? false;
  }

  /** How many groups the session is in here. */
  countOf(session: SessionId): number {
    return this.bySession.get(session)?.groups?.size ?? 0;
  }

  /** The groups of a session, in join order. */
  groupsOf(session: SessionId): GroupId[] {
    const entry = this.bySession.get(session);
    return entry?.groups ? [...entry.groups] : [];
  }

  /** The newest group the session joined or created and is still in (or created with `join:false`), or null. */
  latestOf(session: SessionId): GroupId | null {
    return this.bySession.get(session)?.latest ?? null;
  }

  /** Forgets every session and group. */
  clear(): void {
    this.byGroup.clear();
    this.bySession.clear();
  }

  /** Number of registered sessions. */
  get sessionCount(): number {
    return this.bySession.size;
  }

  /** Number of groups with at least one local session. */
  get groupCount(): number {
    return this.byGroup.size;
  }

  private removeFromGroup(group: GroupId, session: SessionId): void {
    const sessions = this.byGroup.get(group);
    if (!sessions) return;
    sessions.delete(session);
    if (sessions.size === 0) this.byGroup.delete(group);
  }
}

function lastOf(groups: Set<GroupId>): GroupId | null {
  let last: GroupId | null = null;
  for (const group of groups) last = group;
  return last;
}
