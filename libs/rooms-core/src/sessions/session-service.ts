import { RoomsError } from '@rooms-kit/contract';
import type { Clock, Now } from '../clock.js';
import type { Logger } from '../logger.js';
import type { MembershipRegistry } from '../membership-registry.js';
import type { NodeOpenness } from '../node/node-lifecycle.js';
import type { GroupLog } from '../port/group-log.js';
import type { SessionStore } from '../port/session-store.js';
import type { LocalGroup } from '../replica/local-group.js';
import type { GroupSupervisor } from '../supervision/group-supervisor.js';
import type { GroupId, GroupMessage, LeaveReason, MemberInfo, NodeId, SessionId } from '../types.js';
import { SessionTable } from './session-table.js';

/** What a resumed session gets back for one group: the messages it missed after `since`. */
export interface ResumedGroup {
  group: GroupId;
  since: number;
  messages: GroupMessage[];
  /** False when the history no longer holds every missed message. */
  complete: boolean;
}

/** Result of `resumeSession`. */
export interface ResumeResult {
  groups: ResumedGroup[];
  /** Groups the session was in that no longer exist or are full. */
  lost: GroupId[];
}

/** Why the kernel ended a session this node holds (see `NodeManagerOptions.onSessionEnded`). */
export type SessionEndReason = 'taken' | 'kicked';

/** Options of a `SessionService`. */
export interface SessionServiceOptions {
  nodeId: NodeId;
  store: SessionStore;
  groups: Pick<GroupLog, 'rejoin' | 'history'>;
  registry: MembershipRegistry;
  node: NodeOpenness;
  /**
   * The group supervision: a resume holds each group while it rejoins it; records carry the groups' offsets; a session
   * forgotten as taken leaves its groups here without a replica event.
   */
  supervisor: Pick<GroupSupervisor, 'hold' | 'done' | 'offsetOf' | 'localMembersLeft'>;
  /** Waits until the replica applied the event `v` of this node's own change. */
  settle(local: LocalGroup, v: number): Promise<void>;
  /** Takes a member out of a group in the store (retried until the store takes it). */
  leaveInStore(group: GroupId, session: SessionId, reason: LeaveReason): Promise<void>;
  /** Tells the node a session was taken from that it must forget it (fire-and-forget). */
  tellTaken(node: NodeId, session: SessionId): void;
  onSessionEnded?: (session: SessionId, reason: SessionEndReason) => void;
  logger: Logger;
  /** Timers of the resume windows. */
  clock: Clock;
  /** Wall clock of the resume windows' expiry. */
  now: Now;
  resumeWindowMs: number;
}

/**
 * SessionService: this node's sessions: register, suspend (the connection dropped; the resume window runs), resume
 * (here or from another node), expire (the window ended), end (unregister, kicked, taken by another node), and the
 * session records kept in the store so that a session can be resumed on any node. See `NodeManager` for each
 * operation's contract.
 */
export class SessionService {
  private readonly table: SessionTable;

  constructor(private readonly options: SessionServiceOptions) {
    this.table = new SessionTable({
      clock: options.clock,
      now: options.now,
      windowMs: options.resumeWindowMs,
      onExpire: (session) => void this.expire(session),
    });
  }

  /** See `NodeManager.registerSession`. */
  async register(session: SessionId, info: { user?: string; tokenHash?: string }): Promise<void> {
    this.options.node.assertOpen();
    this.options.registry.register(session);
    this.table.add(session, info.user, info.tokenHash ?? null);
    await this.save(session);
  }

  /** True when the session is registered here (connected or suspended). */
  has(session: SessionId): boolean {
    return this.options.registry.isRegistered(session);
  }

  /** See `NodeManager.unregisterSession`. */
  async unregister(session: SessionId, reason: LeaveReason): Promise<void> {
    // Groups of a failed resume are only in the suspension's offsets: they are left too.
    const groups = [...new Set([...this.options.registry.unregister(session), ...this.table.suspendedGroups(session)])];
    this.table.delete(session);
    await Promise.all(groups.map((group) => this.options.leaveInStore(group, session, reason)));
    // A resume that took the session meanwhile keeps its record: the end of the old connection does not end it (here,
    // the resume registered it again; elsewhere, the store's record names the other node).
    if (this.options.registry.isRegistered(session)) return;
    await this.options.store
      .drop(session, this.options.nodeId)
      .catch((error: unknown) => this.options.logger.warn({ err: error, session }, 'dropSession failed'));
  }

  /** See `NodeManager.leaveAll`. */
  async leaveAll(session: SessionId, reason: LeaveReason): Promise<void> {
    const groups = this.options.registry.groupsOf(session);
    await Promise.all(groups.map((group) => this.options.leaveInStore(group, session, reason)));
  }

  /** See `NodeManager.suspendSession`. */
  async suspend(session: SessionId, offsets: Record<GroupId, number>): Promise<void> {
    if (!this.options.registry.isRegistered(session)) return;
    this.table.suspend(session, offsets);
    await this.save(session);
  }

  /** See `NodeManager.resumeSession`. */
  async resume(session: SessionId, tokenHash: string, newTokenHash: string, expectedUser?: string | null): Promise<ResumeResult | null> {
    const { node, registry, nodeId } = this.options;
    node.assertOpen();
    const liveHere = registry.isRegistered(session) && !this.table.isSuspended(session);
    const options: { newTokenHash: string; expectedUser?: string | null } = { newTokenHash };
    if (expectedUser !== undefined) options.expectedUser = expectedUser;
    const taken = await this.options.store.take(session, tokenHash, options);
    if (!taken) return null;
    const { record } = taken;
    // A reconnect before the old connection here was seen dead: that connection is replaced.
    if (liveHere) this.endedHere(session, 'taken');
    // Held by another node: that node drops it (its connection too), before the rejoins below move the members.
    if (taken.previousNode !== nodeId) this.options.tellTaken(taken.previousNode, session);
    // Still live here after the take: its registry's groups are the current ones (an unregister meanwhile dropped them).
    const stillHere = liveHere && registry.isRegistered(session);
    registry.register(session);
    this.table.resume(session, record.user, newTokenHash);
    this.table.stored(session, Object.keys(record.groups));
    const result: ResumeResult = { groups: [], lost: [] };
    for (const [group, since] of Object.entries(record.groups)) {
      // A session live here that left the group (or is leaving it) since the record was stored: that leave came first.
      if (stillHere && (this.table.isLeaving(session, group) || !registry.has(group, session))) continue;
      // The store keeps the member's join `data` (rejoin merges into the stored member).
      const member = this.memberFor(session, undefined);
      try {
        const local = await this.options.supervisor.hold(group);
        try {
          // A replica adopted just now may miss the changes made while it was being read (a discard among them).
          await this.options.settle(local, local.v);
          const v = await this.options.groups.rejoin(group, member);
          if (v === null) {
            result.lost.push(group);
            continue;
          }
          await this.options.settle(local, v);
          registry.touch(session, group);
          const history = await this.options.groups.history(group, since);
          result.groups.push({ group, since, messages: history.messages, complete: history.complete });
        } finally {
          this.options.supervisor.done(local);
        }
      } catch (error) {
        if (error instanceof RoomsError && error.code === 'GROUP_NOT_FOUND') {
          result.lost.push(group);
          continue;
        }
        // A node closed meanwhile starts no resume window: its sessions are gone with it.
        if (!node.isOpen) throw error;
        // Roll back to "suspended here": the session stays resumable for a window and ends with `disconnect`,
        // also in the groups not rejoined yet (their members still point at the old node).
        // The client never saw the new token: the old one stays valid for the retry.
        this.table.resume(session, record.user, tokenHash);
        this.table.suspend(session, record.groups);
        await this.save(session);
        throw error;
      }
    }
    await this.save(session);
    return result;
  }

  /** Ends a session held here as kicked: it leaves every group (`left` reason `kicked`), then its holder is told. */
  async kick(session: SessionId): Promise<void> {
    await this.unregister(session, 'kicked');
    this.endedHere(session, 'kicked');
  }

  /**
   * Forgets a session another node resumed, without `left` events (its `rejoined` moves the member), and tells the
   * embedder (`onSessionEnded(…, 'taken')`) when it was held here. Idempotent: the bus's `taken` and a refused save
   * may both report one take.
   * A change of the session's groups made here after the taker read its record (a create or join of its old
   * connection in flight) is not in that record: the taker never rejoins that group, so its member, held by this node
   * that forgets the session, is taken out of it here (`left` reason `disconnect`); else it would stay for good, a
   * member no node holds. The groups of the last record the store accepted are the ones the taker read: saves reach
   * the store in order, so none accepted before the take is still unanswered when the take is seen.
   */
  forgetTaken(session: SessionId): void {
    const held = this.options.registry.isRegistered(session);
    const moved = this.table.storedGroups(session);
    const groups = this.options.registry.unregister(session);
    this.table.delete(session);
    this.options.supervisor.localMembersLeft(groups);
    for (const group of groups) {
      if (!moved.has(group)) void this.options.leaveInStore(group, session, 'disconnect');
    }
    if (held) this.endedHere(session, 'taken');
  }

  /**
   * Before a leave of `group` changes the store: stores the session's record without the group, so a resume that
   * takes the session from now on does not rejoin it. False when the session turned out taken (it is forgotten here:
   * the leave must not touch the store, where its member may be the taker's already). Pair with `leaveDone`.
   */
  async leaveStarting(session: SessionId, group: GroupId): Promise<boolean> {
    this.table.leaving(session, group, true);
    // Forgotten meanwhile by the bus's `taken` (the save then resolves as not this node's to judge): taken too.
    return (await this.storeRecord(session)) && this.options.registry.isRegistered(session);
  }

  /** After the leave of `group` that `leaveStarting` announced, whether it took effect or not. */
  leaveDone(session: SessionId, group: GroupId): void {
    this.table.leaving(session, group, false);
  }

  /** The member a session joins as: this node, the session's user, and `data` when given. */
  memberFor(session: SessionId, data: unknown): MemberInfo {
    const member: MemberInfo = { id: session, node: this.options.nodeId };
    const user = this.table.user(session);
    if (user !== undefined) member.user = user;
    if (data !== undefined) member.data = data;
    return member;
  }

  /**
   * Stores the session's record (resumable sessions only); a failure is logged. A record the store refuses because
   * another node holds the session now means it was taken without this node being told (the bus cannot reach a node
   * taken for dead, e.g. one that stalled past its liveness): it is forgotten here as taken (`forgetTaken`), unless
   * this node resumed it meanwhile (its token hash changed).
   */
  async save(session: SessionId): Promise<void> {
    await this.storeRecord(session);
  }

  /** `save`, resolving false only when the session was forgotten as taken. */
  private async storeRecord(session: SessionId): Promise<boolean> {
    const { registry, supervisor, nodeId, logger } = this.options;
    const record = this.table.record(session, nodeId, registry.groupsOf(session), (group) => supervisor.offsetOf(group));
    if (!record) return true;
    let stored: boolean;
    try {
      stored = await this.options.store.save(record);
    } catch (error) {
      logger.warn({ err: error, session }, 'saving the session record failed');
      return true;
    }
    if (this.table.tokenHash(session) !== record.tokenHash) return true;
    if (stored) {
      this.table.stored(session, Object.keys(record.groups));
      return true;
    }
    logger.info({ session }, 'another node holds a session held here: it was taken, forgetting it');
    this.forgetTaken(session);
    return false;
  }

  /** Stores every session's record again, one after the other (after the store came back). */
  async saveAll(): Promise<void> {
    for (const session of this.table.ids()) await this.save(session);
  }

  /** Forgets every session and stops every resume window. */
  close(): void {
    this.table.clear();
  }

  /** The resume window ended without a resume: the session ends with `left` reason `disconnect`. */
  private async expire(session: SessionId): Promise<void> {
    try {
      // Only while the store still says the session is ours: a resume elsewhere may have won the race with this timer.
      if (!(await this.options.store.drop(session, this.options.nodeId))) {
        this.options.registry.unregister(session);
        this.table.delete(session);
        return;
      }
      await this.unregister(session, 'disconnect');
    } catch (error) {
      this.options.logger.error({ err: error, session }, 'ending an expired session failed');
    }
  }

  private endedHere(session: SessionId, reason: SessionEndReason): void {
    try {
      this.options.onSessionEnded?.(session, reason);
    } catch (error) {
      this.options.logger.error({ err: error, session }, 'onSessionEnded threw');
    }
  }
}
