import { RoomsError } from '@rooms-kit/contract';
import type { HookContext, HookRegistry } from '../hooks.js';
import type { Logger } from '../logger.js';
import type { MembershipRegistry } from '../membership-registry.js';
import type { NodeOpenness } from '../node/node-lifecycle.js';
import type { GroupLog } from '../port/group-log.js';
import type { LocalGroup } from '../replica/local-group.js';
import { stateOfSnapshot } from '../replica/local-group.js';
import type { SessionService } from '../sessions/session-service.js';
import type { GroupSupervisor } from '../supervision/group-supervisor.js';
import { NO_META } from '../supervision/group-supervisor.js';
import type { GroupId, GroupInfo, GroupMessage, GroupSpec, LeaveReason, MemberInfo, SessionId } from '../types.js';
import type { CreateRequest, CreateResult, JoinResult, PublishResult } from './group-requests.js';
import { UnconfirmedMessages } from '../replica/unconfirmed-messages.js';
import { KeyedQueue } from './keyed-queue.js';
import { checkPayload, checkPayloadField, requireGroupId, requireShallow } from './request-checks.js';

/** Options of `GroupOperations`. */
export interface GroupOperationsOptions {
  groups: GroupLog;
  registry: MembershipRegistry;
  hooks: HookRegistry;
  /** Operations reject `UNAVAILABLE` once the node is closing; `create` rejects `NODE_DRAINING` while it drains. */
  node: NodeOpenness & { readonly isDraining: boolean };
  /** `creations` bounds `create` (per node, per session); see `CreationQuota`. */
  supervisor: Pick<GroupSupervisor, 'watched' | 'hold' | 'done' | 'adopt' | 'creations'>;
  /**
   * Waits until the replica applied the event `v` of this node's own change; first applies the events received
   * between the read of a replica's snapshot and its adoption (so `settle(local, local.v)` right after a watch).
   */
  settle(local: LocalGroup, v: number): Promise<void>;
  sessions: Pick<SessionService, 'memberFor' | 'save' | 'leaveStarting' | 'leaveDone'>;
  /** Takes a member out of a group in the store (retried until the store takes it). */
  leaveInStore(group: GroupId, session: SessionId, reason: LeaveReason): Promise<void>;
  logger: Logger;
  /** Largest broadcast/announce `data` as JSON, bytes (no limit when undefined). */
  maxPayloadBytes?: number | undefined;
  maxGroupsPerSession?: number | undefined;
  /** Largest member `data` (create, join, leave) as JSON, bytes (no limit when undefined). */
  maxMemberDataBytes?: number | undefined;
  /** Largest group `meta` as JSON, bytes (no limit when undefined). */
  maxMetaBytes?: number | undefined;
}

/**
 * GroupOperations: the group operations of the protocol (docs/protocol.md) on this node: create, join, leave,
 * broadcast, announce, members, group, history, discard, with their checks and hooks. Each change goes through the
 * group log and waits for its own replicated event, so the replica and the local members' events are the same on
 * every node. See `NodeManager` for each operation's contract; nothing changes on a refusal.
 *
 * Every payload that enters here (a member's `data`, a group's `meta`, a message's `data`) is checked before anything
 * else sees it, whoever calls (the gateway or an embedding program): nested deeper than `MAX_PAYLOAD_DEPTH` is
 * `BAD_REQUEST`, larger than its limit as JSON is `PAYLOAD_TOO_LARGE`.
 */
export class GroupOperations {
  // Held directly: `broadcast` (the hot path) reads them on every message.
  private readonly registry: MembershipRegistry;
  private readonly hooks: HookRegistry;
  private readonly groups: GroupLog;
  private readonly supervisor: GroupOperationsOptions['supervisor'];
  private readonly watched: ReadonlyMap<GroupId, LocalGroup>;
  private readonly maxPayloadBytes: number | undefined;
  /**
   * A session's changes of one group (create that joins, join, leave) run one after the other: overlapped, a leave's
   * last step would undo a join that landed after it (an embedding program may overlap them; the gateway does not).
   */
  private readonly changes = new KeyedQueue();
  /** Messages acknowledged to this node's senders whose events its replicas have not applied yet. */
  private readonly unconfirmed: UnconfirmedMessages;

  constructor(private readonly options: GroupOperationsOptions) {
    this.registry = options.registry;
    this.unconfirmed = new UnconfirmedMessages(options.logger);
    this.hooks = options.hooks;
    this.groups = options.groups;
    this.supervisor = options.supervisor;
    this.watched = options.supervisor.watched;
    this.maxPayloadBytes = options.maxPayloadBytes;
  }

  /** See `NodeManager.create`. */
  async create(session: SessionId | null, request: CreateRequest): Promise<CreateResult> {
    if (session === null || request.group === undefined) return this.createNow(session, request);
    return this.changes.run(changeKey(session, request.group), () => this.createNow(session, request));
  }

  /** See `NodeManager.join`. */
  join(session: SessionId, group: GroupId, options: { data?: unknown }): Promise<JoinResult> {
    return this.changes.run(changeKey(session, group), () => this.joinNow(session, group, options));
  }

  /** See `NodeManager.leave`. */
  leave(session: SessionId, group: GroupId, options: { data?: unknown }): Promise<{ group: GroupId }> {
    return this.changes.run(changeKey(session, group), () => this.leaveNow(session, group, options));
  }

  private async createNow(session: SessionId | null, request: CreateRequest): Promise<CreateResult> {
    const { node, sessions } = this.options;
    node.assertOpen();
    if (node.isDraining) throw new RoomsError('NODE_DRAINING');
    const join = request.join ?? true;
    const allowEmpty = request.allowEmpty ?? false;
    if (!allowEmpty && !join) throw new RoomsError('BAD_REQUEST', 'a group with allowEmpty:false must be joined at creation');
    if (join && session === null) throw new RoomsError('BAD_REQUEST', 'a server-side create cannot join');
    if (session !== null) this.requireSession(session);
    if (join && session !== null) this.requireRoomFor(session);
    const id = request.group ?? globalThis.crypto.randomUUID();
    requireGroupId(id);
    checkPayloadField(request.data, this.options.maxMemberDataBytes, 'data');
    checkPayloadField(request.meta, this.options.maxMetaBytes, 'meta');
    const context: HookContext = { op: 'create', session, group: id, data: request.data };
    const spec: GroupSpec = {
      id,
      allowEmpty,
      ttlMs: request.ttlMs ?? null,
      maxMembers: request.maxMembers ?? null,
      intervalMs: request.intervalMs ?? 0,
      meta: request.meta ?? NO_META,
      static: false,
    };
    const quota = this.supervisor.creations;
    quota.reserve(session);
    let first: MemberInfo | null;
    let local: LocalGroup;
    try {
      await this.before(context);
      first = join && session !== null ? sessions.memberFor(session, request.data) : null;
      local = this.supervisor.adopt(await this.groups.createGroup(spec, first), request.tick);
    } catch (error) {
      quota.settle(session, null);
      throw error;
    }
    // Changes made by other nodes between the create and its adoption (a join of the new id, a discard).
    await this.options.settle(local, local.v);
    quota.settle(session, id);
    if (first && !this.registry.add(id, first.id)) {
      // The session ended while the create was in flight: take the member out again.
      void this.options.leaveInStore(id, first.id, 'disconnect');
    }
    if (session !== null) this.registry.touch(session, id);
    if (first) await sessions.save(first.id);
    const result: CreateResult = { group: id, members: [...local.members.values()] };
    await this.after(context, result);
    return result;
  }

  private async joinNow(session: SessionId, group: GroupId, options: { data?: unknown }): Promise<JoinResult> {
    this.options.node.assertOpen();
    this.requireSession(session);
    requireGroupId(group);
    checkPayloadField(options.data, this.options.maxMemberDataBytes, 'data');
    if (!this.registry.has(group, session)) this.requireRoomFor(session);
    const context: HookContext = { op: 'join', session, group, data: options.data };
    await this.before(context);
    const local = await this.supervisor.hold(group);
    let result: JoinResult;
    try {
      // A replica adopted just now may miss the changes made while it was being read (a discard: the join is refused).
      await this.options.settle(local, local.v);
      if (this.registry.has(group, session)) {
        result = { group, members: [...local.members.values()], already: true, offset: local.offset };
      } else {
        const outcome = await this.groups.join(group, this.options.sessions.memberFor(session, options.data));
        if (!outcome.already) await this.options.settle(local, outcome.v);
        // A session that went away while its join was in flight is removed again by `applyJoined`.
        if (outcome.already && this.registry.isRegistered(session)) this.registry.add(group, session);
        this.registry.touch(session, group);
        result = { group, members: [...local.members.values()], already: outcome.already, offset: outcome.offset };
      }
    } finally {
      this.supervisor.done(local);
    }
    if (!result.already) await this.options.sessions.save(session);
    await this.after(context, result);
    return result;
  }

  private async leaveNow(session: SessionId, group: GroupId, options: { data?: unknown }): Promise<{ group: GroupId }> {
    this.options.node.assertOpen();
    this.requireSession(session);
    requireGroupId(group);
    checkPayloadField(options.data, this.options.maxMemberDataBytes, 'data');
    const context: HookContext = { op: 'leave', session, group, data: options.data };
    await this.before(context);
    if (!this.registry.has(group, session)) {
      await this.requireExists(group);
      throw new RoomsError('NOT_MEMBER');
    }
    const { sessions } = this.options;
    // The record loses the group before the store does: a resume that takes the session meanwhile does not put it
    // back; one that took it already is seen here, and the leave then leaves its member alone.
    if (!(await sessions.leaveStarting(session, group))) throw new RoomsError('BAD_REQUEST', `unknown session ${session}`);
    let stillMember = true;
    try {
      const local = await this.supervisor.hold(group);
      try {
        const v = await this.groups.leave(group, session, 'leave', options.data);
        stillMember = false;
        if (v === null) {
          this.registry.remove(group, session);
          throw new RoomsError('NOT_MEMBER');
        }
        await this.options.settle(local, v);
        this.registry.remove(group, session);
      } finally {
        this.supervisor.done(local);
      }
    } finally {
      sessions.leaveDone(session, group);
      // The record already lost the group (`leaveStarting`); a leave the store refused gives it back.
      if (stillMember) await sessions.save(session);
    }
    const result = { group };
    await this.after(context, result);
    return result;
  }

  /** See `NodeManager.broadcast`. Not `async`: the hot path returns the group log's promise with one `.then`. */
  broadcast(session: SessionId, group: GroupId, data: unknown, self: boolean): Promise<PublishResult> {
    if (!this.registry.has(group, session)) return this.refuseBroadcast(group);
    let json: string;
    try {
      requireShallow(data, 'data');
      json = checkPayload(data, this.maxPayloadBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    // A hook may change `data` in place, so the JSON measured before it is not passed on then.
    if (this.hooks.has('broadcast')) return this.hookedBroadcast(session, group, data, self);
    return this.publish(group, session, data, self, json);
  }

  /** See `NodeManager.announce`. */
  async announce(group: GroupId, data: unknown): Promise<PublishResult> {
    this.options.node.assertOpen();
    requireGroupId(group);
    requireShallow(data, 'data');
    return this.publish(group, null, data, true, checkPayload(data, this.maxPayloadBytes));
  }

  /** See `NodeManager.members`. */
  async members(group: GroupId, session: SessionId | null): Promise<MemberInfo[]> {
    this.options.node.assertOpen();
    requireGroupId(group);
    await this.before({ op: 'members', session, group });
    const local = this.watched.get(group);
    if (local) return [...local.members.values()];
    const snapshot = await this.groups.snapshot(group);
    if (!snapshot) throw new RoomsError('GROUP_NOT_FOUND');
    return snapshot.members;
  }

  /** See `NodeManager.groupInfo`. */
  async groupInfo(group: GroupId, session: SessionId | null): Promise<GroupInfo> {
    this.options.node.assertOpen();
    requireGroupId(group);
    await this.before({ op: 'group', session, group });
    const local = this.watched.get(group);
    if (local) {
      return { group, state: local.state, size: local.members.size, nodes: local.nodes(), meta: local.spec.meta, static: local.spec.static };
    }
    const snapshot = await this.groups.snapshot(group);
    if (!snapshot) throw new RoomsError('GROUP_NOT_FOUND');
    const nodes = [...new Set(snapshot.members.map((m) => m.node))].sort();
    return { group, state: stateOfSnapshot(snapshot), size: snapshot.members.length, nodes, meta: snapshot.spec.meta, static: snapshot.spec.static };
  }

  /** See `NodeManager.history`. */
  async history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }> {
    this.options.node.assertOpen();
    requireGroupId(group);
    return this.groups.history(group, since);
  }

  /** See `NodeManager.listGroups`. */
  async listGroups(): Promise<GroupId[]> {
    this.options.node.assertOpen();
    return this.groups.listGroups();
  }

  /** See `NodeManager.discard`. */
  async discard(group: GroupId): Promise<void> {
    this.options.node.assertOpen();
    requireGroupId(group);
    const spec = this.watched.get(group)?.spec ?? (await this.groups.snapshot(group))?.spec;
    if (!spec) throw new RoomsError('GROUP_NOT_FOUND');
    if (spec.static) throw new RoomsError('FORBIDDEN', 'static groups cannot be discarded');
    if (!(await this.groups.discard(group, { ifEmpty: false, reason: 'admin' }))) throw new RoomsError('GROUP_NOT_FOUND');
  }

  private async refuseBroadcast(group: GroupId): Promise<never> {
    this.options.node.assertOpen();
    requireGroupId(group);
    await this.requireExists(group);
    throw new RoomsError('NOT_MEMBER');
  }

  private async hookedBroadcast(session: SessionId, group: GroupId, data: unknown, self: boolean): Promise<PublishResult> {
    const context: HookContext = { op: 'broadcast', session, group, data };
    await this.before(context);
    const result = await this.publish(group, session, data, self);
    await this.after(context, result);
    return result;
  }

  /** Publishes through the group log; `json` is `data` as JSON when a check wrote it (see `GroupLog.publish`). */
  private publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean, json?: string): Promise<PublishResult> {
    return this.groups.publish(group, from, data, self, json).then(({ offset, size }) => {
      const local = this.watched.get(group);
      if (local) {
        if (offset > local.acknowledged) local.acknowledged = offset;
        // Acknowledged, event not back yet: kept until it is, to restore it if the store loses it meanwhile.
        if (offset > local.offset) this.unconfirmed.keep(local, { offset, from, json: json ?? JSON.stringify(data) ?? 'null', self });
      }
      return { recipients: from === null || self ? size : size - 1, offset };
    });
  }

  private async requireExists(group: GroupId): Promise<void> {
    if (this.watched.get(group)) return;
    if (!(await this.groups.snapshot(group))) throw new RoomsError('GROUP_NOT_FOUND');
  }

  private requireRoomFor(session: SessionId): void {
    const limit = this.options.maxGroupsPerSession;
    if (limit !== undefined && limit > 0 && this.registry.countOf(session) >= limit) {
      throw new RoomsError('FORBIDDEN', `a session may be in at most ${limit} groups`);
    }
  }

  private requireSession(session: SessionId): void {
    if (!this.registry.isRegistered(session)) throw new RoomsError('BAD_REQUEST', `unknown session ${session}`);
  }

  private async before(context: HookContext): Promise<void> {
    if (this.hooks.has(context.op)) await this.hooks.runBefore(context);
  }

  private async after(context: HookContext, result: unknown): Promise<void> {
    if (!this.hooks.has(context.op)) return;
    for (const error of await this.hooks.runAfter(context, result)) {
      this.options.logger.error({ err: error, op: context.op, group: context.group }, 'after-hook threw');
    }
  }
}

/** The key of a session's changes of one group (two pairs that shared one would only wait for each other). */
function changeKey(session: SessionId, group: GroupId): string {
  return `${session}\u0000${group}`;
}
