import { RoomsError } from '@rooms-kit/contract';
import type { GroupId, SessionId } from '../types.js';

/** The bounds a `CreationQuota` keeps; undefined or 0 = unlimited. */
export interface CreationLimits {
  /** Groups the node supervises at most (`NodeManagerOptions.maxGroups`). */
  maxGroups?: number | undefined;
  /** Groups one session created that the node still supervises (`NodeManagerOptions.maxCreatedGroupsPerSession`). */
  maxCreatedPerSession?: number | undefined;
}

/**
 * CreationQuota: the bounds on `create`, so that no client can make a node hold groups without end (empty groups
 * with a long `ttl` cost memory and a timer each, and are held by no member's per-session cap).
 *
 * - Per node: the groups it supervises (`supervised()`: the watched groups, whoever created them) plus the creates
 *   in flight stay within `maxGroups`; past it `reserve` throws `UNAVAILABLE` (temporary: groups end with their grace
 *   or ttl, and another node may have room).
 * - Per session: the groups a session created on this node that the node still supervises, plus its creates in
 *   flight, stay within `maxCreatedPerSession`; past it `reserve` throws `FORBIDDEN`. A created group stops counting
 *   when the node stops supervising it (`forget`): it was discarded, or it is active with all its members on other
 *   nodes (each held by their own sessions' caps). The count is this node's view: a session resumed on another node
 *   starts from zero there.
 *
 * Creates in flight are counted between `reserve` and `settle`, so concurrent creates cannot overshoot either bound.
 * The tables hold only groups the node supervises (and only with a per-session bound), so they are bounded too.
 */
export class CreationQuota {
  /** Per session: the groups it created that are still supervised, plus its creates in flight. */
  private readonly counts = new Map<SessionId, number>();
  private readonly creatorOf = new Map<GroupId, SessionId>();
  private inFlight = 0;

  constructor(
    private readonly limits: CreationLimits,
    /** How many groups the node supervises now. */
    private readonly supervised: () => number,
  ) {}

  /**
   * Counts one create of `session` (null: server-side, bound only per node) as in flight, or throws `FORBIDDEN` (the
   * session's bound) or `UNAVAILABLE` (the node's bound) and counts nothing. Every successful call must be followed
   * by one `settle`.
   */
  reserve(session: SessionId | null): void {
    const { maxGroups, maxCreatedPerSession } = this.limits;
    if (session !== null && maxCreatedPerSession && this.countOf(session) >= maxCreatedPerSession) {
      throw new RoomsError('FORBIDDEN', `a session may have created at most ${maxCreatedPerSession} groups that still exist`);
    }
    if (maxGroups && this.supervised() + this.inFlight >= maxGroups) {
      throw new RoomsError('UNAVAILABLE', `this node holds its maximum of ${maxGroups} groups; try again later`);
    }
    this.inFlight++;
    if (session !== null && maxCreatedPerSession) this.add(session, 1);
  }

  /** Ends a create counted by `reserve`: `group` is the group it created and the node now supervises, null if it failed. */
  settle(session: SessionId | null, group: GroupId | null): void {
    this.inFlight--;
    if (session === null || !this.limits.maxCreatedPerSession) return;
    if (group === null) {
      this.add(session, -1);
      return;
    }
    // The reservation becomes the group's count (a stale replica of that id no longer counts for its creator).
    this.forget(group);
    this.creatorOf.set(group, session);
  }

  /** The node stopped supervising `group`: it no longer counts against the session that created it. */
  forget(group: GroupId): void {
    const creator = this.creatorOf.get(group);
    if (creator === undefined) return;
    this.creatorOf.delete(group);
    this.add(creator, -1);
  }

  /**
   * The groups `session` created that the node still supervises, plus its creates in flight; counted only with a
   * per-session bound (0 without one).
   */
  countOf(session: SessionId): number {
    return this.counts.get(session) ?? 0;
  }

  private add(session: SessionId, delta: number): void {
    const count = (this.counts.get(session) ?? 0) + delta;
    if (count > 0) this.counts.set(session, count);
    else this.counts.delete(session);
  }
}
