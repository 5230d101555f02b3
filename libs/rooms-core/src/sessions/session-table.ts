import type { Clock, Now } from '../clock.js';
import type { SessionRecord } from '../port/session-store.js';
import type { GroupId, NodeId, SessionId } from '../types.js';

interface SessionEntry {
  user: string | undefined;
  tokenHash: string | null;
  /** Per group, the last offset written to the (dropped) connection; null while connected. */
  offsets: Record<GroupId, number> | null;
  expiresAt: number | null;
  timer: unknown;
  /** The groups of the last record the store accepted (or that a resume took): the groups a taker rejoins. */
  stored: ReadonlySet<GroupId>;
  /** Groups a leave in flight takes the session out of: left out of the records stored meanwhile. */
  leaving: Set<GroupId> | null;
}

const NO_GROUPS: ReadonlySet<GroupId> = new Set();

/** Options of a `SessionTable`. */
export interface SessionTableOptions {
  clock: Clock;
  now: Now;
  windowMs: number;
  /** Called when a suspended session's window ends without a resume. */
  onExpire: (session: SessionId) => void;
}

/**
 * SessionTable: this node's sessions beyond their memberships: the user, the resume token's hash, and for suspended
 * sessions the offsets to replay from and the resume-window timer. Builds the `SessionRecord` stored for resume.
 */
export class SessionTable {
  private readonly entries = new Map<SessionId, SessionEntry>();

  constructor(private readonly options: SessionTableOptions) {}

  /** Adds a connected session (replacing any entry of the same id). */
  add(session: SessionId, user: string | undefined, tokenHash: string | null): void {
    this.delete(session);
    this.entries.set(session, { user, tokenHash, offsets: null, expiresAt: null, timer: null, stored: NO_GROUPS, leaving: null });
  }

  /** The session's user, if any. */
  user(session: SessionId): string | undefined {
    return this.entries.get(session)?.user;
  }

  /** The hash of the session's current resume token; null when it has none, undefined when it is not here. */
  tokenHash(session: SessionId): string | null | undefined {
    return this.entries.get(session)?.tokenHash;
  }

  /** True when the session is here and suspended (its connection dropped, its window running). */
  isSuspended(session: SessionId): boolean {
    return this.entries.get(session)?.offsets != null;
  }

  /** The groups of a suspended session's offsets (empty when connected or unknown). */
  suspendedGroups(session: SessionId): GroupId[] {
    return Object.keys(this.entries.get(session)?.offsets ?? {});
  }

  /** The groups of the last record the store accepted for the session (see `stored`); empty when unknown. */
  storedGroups(session: SessionId): ReadonlySet<GroupId> {
    return this.entries.get(session)?.stored ?? NO_GROUPS;
  }

  /** Records the groups of a record the store accepted (or that a resume took) for the session. */
  stored(session: SessionId, groups: Iterable<GroupId>): void {
    const entry = this.entries.get(session);
    if (entry) entry.stored = new Set(groups);
  }

  /** True while a leave of `group` by the session is in flight (see `leaving`). */
  isLeaving(session: SessionId, group: GroupId): boolean {
    return this.entries.get(session)?.leaving?.has(group) ?? false;
  }

  /** Marks a leave of `group` in flight (true) or over (false): records stored meanwhile leave the group out. */
  leaving(session: SessionId, group: GroupId, inFlight: boolean): void {
    const entry = this.entries.get(session);
    if (!entry) return;
    if (inFlight) (entry.leaving ??= new Set()).add(group);
    else if (entry.leaving?.delete(group) && entry.leaving.size === 0) entry.leaving = null;
  }

  /** Ids of every session. */
  ids(): SessionId[] {
    return [...this.entries.keys()];
  }

  /** Marks a session suspended and starts its resume window. */
  suspend(session: SessionId, offsets: Record<GroupId, number>): void {
    const entry = this.entries.get(session);
    if (!entry) return;
    if (entry.timer !== null) this.options.clock.clearTimeout(entry.timer);
    entry.offsets = { ...offsets };
    entry.expiresAt = this.options.now() + this.options.windowMs;
    entry.timer = this.options.clock.setTimeout(() => {
      entry.timer = null;
      this.options.onExpire(session);
    }, this.options.windowMs);
  }

  /** Marks a session connected again (here), with its new token hash; stops its window. */
  resume(session: SessionId, user: string | undefined, tokenHash: string): void {
    const entry = this.entries.get(session);
    if (!entry) {
      this.add(session, user, tokenHash);
      return;
    }
    if (entry.timer !== null) this.options.clock.clearTimeout(entry.timer);
    entry.timer = null;
    entry.offsets = null;
    entry.expiresAt = null;
    entry.tokenHash = tokenHash;
  }

  /** Forgets a session and stops its timer. */
  delete(session: SessionId): void {
    const entry = this.entries.get(session);
    if (!entry) return;
    if (entry.timer !== null) this.options.clock.clearTimeout(entry.timer);
    this.entries.delete(session);
  }

  /** Forgets every session and stops every timer. */
  clear(): void {
    for (const session of [...this.entries.keys()]) this.delete(session);
  }

  /**
   * The record to store for a resumable session, or null when it has no token (not resumable); groups a leave in
   * flight takes the session out of are left out (see `leaving`). Offsets come from
   * the suspension when suspended, else from `currentOffset` (a resume after a crash replays from there).
   */
  record(session: SessionId, node: NodeId, groups: GroupId[], currentOffset: (group: GroupId) => number): SessionRecord | null {
    const entry = this.entries.get(session);
    if (!entry?.tokenHash) return null;
    const offsets: Record<GroupId, number> = {};
    // A suspension may hold groups the registry lost track of (a failed resume): they stay in the record.
    for (const group of new Set([...groups, ...Object.keys(entry.offsets ?? {})])) {
      if (entry.leaving?.has(group)) continue;
      offsets[group] = entry.offsets?.[group] ?? currentOffset(group);
    }
    const record: SessionRecord = { id: session, node, tokenHash: entry.tokenHash, groups: offsets, expiresAt: entry.expiresAt, windowMs: this.options.windowMs };
    if (entry.user !== undefined) record.user = entry.user;
    return record;
  }
}
