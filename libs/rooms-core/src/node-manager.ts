import { createActor } from 'xstate';
import type { Clock, Now } from './clock.js';
import { systemClock } from './clock.js';
import type { DeliveryEvent, DeliveryPort } from './delivery.js';
import { RoomsError } from '@rooms-kit/contract';
import type { GroupLifecycleListener } from './group-machine.js';
import { GroupMachine } from './group-machine.js';
import { isValidGroupId } from '@rooms-kit/contract';
import type { HookContext } from './hooks.js';
import { HookRegistry } from './hooks.js';
import { LocalGroup, stateOfSnapshot } from './local-group.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { InMemoryBackend } from './memory/in-memory-backend.js';
import { MembershipRegistry } from './membership-registry.js';
import type { NodeMessage } from './node-messages.js';
import { parseNodeMessage } from './node-messages.js';
import type { Backend, BackendHandler } from './port/backend.js';
import type { GroupSnapshot, ReplicaEvent } from './port/group-log.js';
import { SessionTable } from './session-table.js';
import type {
  DiscardReason,
  GroupId,
  GroupInfo,
  GroupMessage,
  GroupOptions,
  GroupSpec,
  LeaveReason,
  MemberInfo,
  NodeId,
  SessionId,
} from './types.js';

/** How long an operation waits for the event of its own change before it resyncs the replica instead. */
const EVENT_WAIT_MS = 5000;
/** The `meta` of groups created without one: shared (and frozen) rather than an empty object per group. */
const NO_META: Record<string, unknown> = Object.freeze({});
/** How long a node keeps watching a group after its last local member left (the group lives on elsewhere). */
const UNWATCH_DELAY_MS = 2000;

/** Options of a `NodeManager`. Only `delivery` is required. */
export interface NodeManagerOptions {
  /** Where events for this node's sessions go. */
  delivery: DeliveryPort;
  /** This node's id; unique per process start. Default: a random id (the backend's id when a backend is given). */
  nodeId?: NodeId;
  /** The backend (group log, session store, cluster bus). Default: an `InMemoryBackend` of its own (single node). */
  backend?: Backend;
  /** How long an empty group is kept when it gave no `ttlMs`. Default 5000. */
  emptyGraceMs?: number;
  /** How long a suspended session may be resumed. Default 30000. */
  resumeWindowMs?: number;
  /** Ids of static groups, created at `start()` and never discarded. */
  staticGroups?: readonly GroupId[];
  /** Largest `data` (as JSON, bytes) `announce` and `broadcast` accept; default no limit (the gateway limits frames). */
  maxPayloadBytes?: number;
  /** Timers for lifecycle (grace, ttl, resume window). Default the global timers. */
  clock?: Clock;
  /** Wall clock (session expiry). Default `Date.now`. */
  now?: Now;
  logger?: Logger;
  /** Payload of `left` events for members that disconnected or whose node died (Diarkis' custom discard message). */
  disconnectMessage?: (member: MemberInfo, group: GroupId, reason: 'disconnect' | 'node-down') => unknown;
  /** Payload of `rejoined` events (Diarkis' custom rejoin message). */
  rejoinMessage?: (member: MemberInfo, group: GroupId) => unknown;
  /** A session may be in at most this many groups (create/join beyond it reject `FORBIDDEN`). Default unlimited. */
  maxGroupsPerSession?: number;
  /**
   * Called when the kernel ended a session this node holds for a reason its connection must follow: `taken` (resumed
   * on another connection, here or on another node: already forgotten here without `left`; drop the old connection
   * without suspending it) or `kicked` (already removed with `left` reason `kicked`; close the connection with 4003).
   */
  onSessionEnded?: (session: SessionId, reason: 'taken' | 'kicked') => void;
}

/** `create`'s request: PROTOCOL.md's fields, in ms, plus an embedding-only tick. */
export interface CreateRequest extends GroupOptions {
  /** The id; generated when absent. */
  group?: GroupId;
  /** Whether the creator joins (default true). Requires a session. */
  join?: boolean;
  /** The creator's join payload. */
  data?: unknown;
  /** Calls `onTick` every `everyMs` while the group lives on this node (embedding API only). */
  tick?: { everyMs: number; onTick: (group: GroupId) => void };
}

/** Result of `create`. */
export interface CreateResult {
  group: GroupId;
  members: MemberInfo[];
}

/** Result of `join`. */
export interface JoinResult {
  group: GroupId;
  members: MemberInfo[];
  already: boolean;
  offset: number;
}

/** Result of `broadcast` and `announce`. */
export interface PublishResult {
  recipients: number;
  offset: number;
}

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

/**
 * NodeManager: the kernel of one node. It keeps this node's sessions and their memberships (`MembershipRegistry`),
 * supervises one `GroupMachine` actor per group it watches, runs hooks, drives every change through the `Backend`
 * (group log, session store; the cluster bus to reach other nodes' sessions) and applies the replicated events it gets
 * back, delivering member events to local sessions through the `DeliveryPort`. Operations reject with `RoomsError` codes of PROTOCOL.md's catalog; nothing changes on a refusal.
 *
 * Embedding: `const node = new NodeManager({ delivery }); await node.start();` then register sessions and call the
 * operations. `close()` stops every actor, timer and the backend.
 */
export class NodeManager {
  readonly nodeId: NodeId;
  readonly hooks = new HookRegistry();
  readonly registry = new MembershipRegistry();
  private readonly backend: Backend;
  private readonly delivery: DeliveryPort;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly emptyGraceMs: number;
  private readonly options: NodeManagerOptions;
  private readonly groups = new Map<GroupId, LocalGroup>();
  private readonly acquiring = new Map<GroupId, Promise<LocalGroup>>();
  private readonly ticks = new Map<GroupId, { everyMs: number; onTick: (group: GroupId) => void }>();
  private readonly sessions: SessionTable;
  /** Leaves the store refused while unreachable; retried when it is back so no member is left behind. */
  private readonly pendingLeaves = new Map<string, { group: GroupId; session: SessionId; reason: LeaveReason }>();
  private draining = false;
  private state: 'new' | 'starting' | 'started' | 'closed' = 'new';
  private closing: Promise<void> | null = null;
  private storeAvailable = true;
  private leaveRetryTimer: unknown = null;

  constructor(options: NodeManagerOptions) {
    this.options = options;
    this.nodeId = options.backend?.nodeId ?? options.nodeId ?? `node-${globalThis.crypto.randomUUID()}`;
    this.backend = options.backend ?? new InMemoryBackend(this.nodeId);
    this.delivery = options.delivery;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.emptyGraceMs = options.emptyGraceMs ?? 5000;
    this.sessions = new SessionTable({
      clock: this.clock,
      now: options.now ?? Date.now,
      windowMs: options.resumeWindowMs ?? 30_000,
      onExpire: (session) => this.expireSession(session),
    });
  }

  /** True once started and until closed, except while draining or while the store is unreachable (for `/readyz`). */
  get ready(): boolean {
    return this.state === 'started' && this.storeAvailable && !this.draining;
  }

  /** True while the shared store can be reached. */
  get available(): boolean {
    return this.storeAvailable;
  }

  /** True after `drain()`. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Starts the backend and creates the static groups. Resolves once the node can serve. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new RoomsError('INTERNAL', 'a NodeManager starts once');
    this.state = 'starting';
    await this.backend.start(this.handler);
    for (const id of this.options.staticGroups ?? []) await this.ensureStatic(id);
    this.state = 'started';
  }

  /** Refuses new groups from now on (`NODE_DRAINING`); everything else keeps working. */
  drain(): void {
    this.draining = true;
  }

  /** Stops every actor, timer and the backend. Idempotent; operations after it reject. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- sessions ------------------------------------------------------------------------------------------------

  /** Registers a connected session so it can create, join and receive events. `tokenHash` makes it resumable. */
  async registerSession(session: SessionId, info: { user?: string; tokenHash?: string } = {}): Promise<void> {
    this.assertOpen();
    this.registry.register(session);
    this.sessions.add(session, info.user, info.tokenHash ?? null);
    await this.saveSessionRecord(session);
  }

  /** True when the session is registered here (connected or suspended). */
  hasSession(session: SessionId): boolean {
    return this.registry.isRegistered(session);
  }

  /**
   * Ends a session: it leaves every group (members get `left` with `reason`) and is forgotten, also in the store.
   * Leaves the store cannot take now are retried when it is back.
   */
  async unregisterSession(session: SessionId, reason: LeaveReason = 'disconnect'): Promise<void> {
    // Groups of a failed resume are only in the suspension's offsets: they are left too.
    const groups = [...new Set([...this.registry.unregister(session), ...this.sessions.suspendedGroups(session)])];
    this.sessions.delete(session);
    await Promise.all(groups.map((group) => this.leaveInStore(group, session, reason)));
    await this.backend.sessions.drop(session).catch((error: unknown) => this.logger.warn({ err: error, session }, 'dropSession failed'));
  }

  /** Leaves every group of the session, which stays registered. */
  async leaveAll(session: SessionId, reason: LeaveReason = 'leave'): Promise<void> {
    const groups = this.registry.groupsOf(session);
    await Promise.all(groups.map((group) => this.leaveInStore(group, session, reason)));
  }

  /**
   * Keeps a session whose connection dropped resumable for the resume window: its memberships stay (members see
   * nothing) and `offsets` (per group, the last offset written to the connection) say where a replay starts.
   * When the window ends without a resume the session ends with `left` reason `disconnect`.
   */
  async suspendSession(session: SessionId, offsets: Record<GroupId, number>): Promise<void> {
    if (!this.registry.isRegistered(session)) return;
    this.sessions.suspend(session, offsets);
    await this.saveSessionRecord(session);
  }

  /**
   * Resumes a session on this node (it may have been held by another, dead or alive): checks the token hash,
   * moves its memberships here (members get `rejoined`) and returns, per group, the messages after the last offset
   * written to the old connection. `newTokenHash` replaces the old one. Null when the session cannot be resumed.
   * Live events for the session reach the delivery port as soon as each group is rejoined, before this resolves:
   * a caller that writes to a connection holds them until it wrote the replay (dropping offsets the replay had).
   * On a store failure midway the session is rolled back to suspended here (resumable again) and this rejects.
   * A session still connected (here or on another node) is taken over: its holder gets `onSessionEnded(…, 'taken')`.
   * With `expectedUser` (auth on; null = a token without user), a session of another user, or with a user when null
   * was given, is refused (null) before anything changes.
   */
  async resumeSession(session: SessionId, tokenHash: string, newTokenHash: string, expectedUser?: string | null): Promise<ResumeResult | null> {
    this.assertOpen();
    const liveHere = this.registry.isRegistered(session) && !this.sessions.isSuspended(session);
    const options: { newTokenHash: string; expectedUser?: string | null } = { newTokenHash };
    if (expectedUser !== undefined) options.expectedUser = expectedUser;
    const taken = await this.backend.sessions.take(session, tokenHash, options);
    if (!taken) return null;
    const { record } = taken;
    // A reconnect before the old connection here was seen dead: that connection is replaced.
    if (liveHere) this.endedHere(session, 'taken');
    // Held by another node: that node drops it (its connection too), before the rejoins below move the members.
    if (taken.previousNode !== this.nodeId) this.tellTaken(taken.previousNode, session);
    this.registry.register(session);
    this.sessions.resume(session, record.user, newTokenHash);
    const result: ResumeResult = { groups: [], lost: [] };
    for (const [group, since] of Object.entries(record.groups)) {
      // The store keeps the member's join `data` (rejoin merges into the stored member).
      const member = this.memberFor(session, undefined);
      try {
        const local = await this.hold(group);
        try {
          const v = await this.backend.groups.rejoin(group, member);
          if (v === null) {
            result.lost.push(group);
            continue;
          }
          await this.settle(local, v);
          this.registry.touch(session, group);
          const history = await this.backend.groups.history(group, since);
          result.groups.push({ group, since, messages: history.messages, complete: history.complete });
        } finally {
          this.done(local);
        }
      } catch (error) {
        if (error instanceof RoomsError && error.code === 'GROUP_NOT_FOUND') {
          result.lost.push(group);
          continue;
        }
        // Roll back to "suspended here": the session stays resumable for a window and ends with `disconnect`,
        // also in the groups not rejoined yet (their members still point at the old node).
        // The client never saw the new token: the old one stays valid for the retry.
        this.sessions.resume(session, record.user, tokenHash);
        this.sessions.suspend(session, record.groups);
        await this.saveSessionRecord(session);
        throw error;
      }
    }
    await this.saveSessionRecord(session);
    return result;
  }

  // ---- operations ----------------------------------------------------------------------------------------------

  /**
   * Creates a group. With `join` (default) the session is its first member, atomically. Rejects `BAD_REQUEST`
   * (`allowEmpty:false` with `join:false`, bad id), `GROUP_EXISTS`, `NODE_DRAINING`, `UNAVAILABLE`.
   */
  async create(session: SessionId | null, request: CreateRequest = {}): Promise<CreateResult> {
    this.assertOpen();
    if (this.draining) throw new RoomsError('NODE_DRAINING');
    const join = request.join ?? true;
    const allowEmpty = request.allowEmpty ?? false;
    if (!allowEmpty && !join) throw new RoomsError('BAD_REQUEST', 'a group with allowEmpty:false must be joined at creation');
    if (join && session === null) throw new RoomsError('BAD_REQUEST', 'a server-side create cannot join');
    if (session !== null) this.requireSession(session);
    if (join && session !== null) this.requireRoomFor(session);
    const id = request.group ?? globalThis.crypto.randomUUID();
    this.requireGroupId(id);
    const context: HookContext = { op: 'create', session, group: id, data: request.data };
    await this.before(context);
    const spec: GroupSpec = {
      id,
      allowEmpty,
      ttlMs: request.ttlMs ?? null,
      maxMembers: request.maxMembers ?? null,
      intervalMs: request.intervalMs ?? 0,
      meta: request.meta ?? NO_META,
      static: false,
    };
    const first = join && session !== null ? this.memberFor(session, request.data) : null;
    const snapshot = await this.backend.groups.createGroup(spec, first);
    if (request.tick) this.ticks.set(id, request.tick);
    const local = this.adopt(snapshot);
    if (first && !this.registry.add(id, first.id)) {
      // The session ended while the create was in flight: take the member out again.
      void this.leaveInStore(id, first.id, 'disconnect');
    }
    if (session !== null) this.registry.touch(session, id);
    if (first) await this.saveSessionRecord(first.id);
    const result: CreateResult = { group: id, members: [...local.members.values()] };
    await this.after(context, result);
    return result;
  }

  /**
   * Joins a session to a group. Joining a group it is in succeeds with `already: true` and no event. Rejects
   * `GROUP_NOT_FOUND`, `GROUP_FULL`, `FORBIDDEN` (hook), `UNAVAILABLE`. Other members get `joined`.
   */
  async join(session: SessionId, group: GroupId, options: { data?: unknown } = {}): Promise<JoinResult> {
    this.assertOpen();
    this.requireSession(session);
    this.requireGroupId(group);
    if (!this.registry.has(group, session)) this.requireRoomFor(session);
    const context: HookContext = { op: 'join', session, group, data: options.data };
    await this.before(context);
    const local = await this.hold(group);
    let result: JoinResult;
    try {
      if (this.registry.has(group, session)) {
        result = { group, members: [...local.members.values()], already: true, offset: local.offset };
      } else {
        const outcome = await this.backend.groups.join(group, this.memberFor(session, options.data));
        if (!outcome.already) await this.settle(local, outcome.v);
        // A session that went away while its join was in flight is removed again by `applyJoined`.
        if (outcome.already && this.registry.isRegistered(session)) this.registry.add(group, session);
        this.registry.touch(session, group);
        result = { group, members: [...local.members.values()], already: outcome.already, offset: outcome.offset };
      }
    } finally {
      this.done(local);
    }
    if (!result.already) await this.saveSessionRecord(session);
    await this.after(context, result);
    return result;
  }

  /**
   * Removes a session from a group; members get `left` with reason `leave`. Rejects `NOT_MEMBER`, `GROUP_NOT_FOUND`,
   * `FORBIDDEN` (hook), `UNAVAILABLE`.
   */
  async leave(session: SessionId, group: GroupId, options: { data?: unknown } = {}): Promise<{ group: GroupId }> {
    this.assertOpen();
    this.requireSession(session);
    this.requireGroupId(group);
    const context: HookContext = { op: 'leave', session, group, data: options.data };
    await this.before(context);
    if (!this.registry.has(group, session)) {
      await this.requireExists(group);
      throw new RoomsError('NOT_MEMBER');
    }
    const local = await this.hold(group);
    try {
      const v = await this.backend.groups.leave(group, session, 'leave', options.data);
      if (v === null) {
        this.registry.remove(group, session);
        throw new RoomsError('NOT_MEMBER');
      }
      await this.settle(local, v);
      this.registry.remove(group, session);
    } finally {
      this.done(local);
    }
    await this.saveSessionRecord(session);
    const result = { group };
    await this.after(context, result);
    return result;
  }

  /**
   * Sends `data` to the other members of a group (and to the sender with `self`). Every message gets the group's next
   * offset. Rejects `NOT_MEMBER`, `GROUP_NOT_FOUND`, `PAYLOAD_TOO_LARGE`, `UNAVAILABLE`. `recipients` counts the
   * members it was addressed to, on every node.
   */
  broadcast(session: SessionId, group: GroupId, data: unknown, options: { self?: boolean } = {}): Promise<PublishResult> {
    // Not `async`: the hot path returns the group log's promise with one `.then`, no extra await layers.
    if (!this.registry.has(group, session)) return this.refuseBroadcast(group);
    const self = options.self ?? false;
    try {
      this.checkPayload(data);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.hooks.has('broadcast')) return this.hookedBroadcast(session, group, data, self);
    return this.publish(group, session, data, self);
  }

  private async refuseBroadcast(group: GroupId): Promise<never> {
    this.assertOpen();
    this.requireGroupId(group);
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

  /** Server-side broadcast with `from: null` to every member; needs no membership. Rejects `GROUP_NOT_FOUND`. */
  async announce(group: GroupId, data: unknown): Promise<PublishResult> {
    this.assertOpen();
    this.requireGroupId(group);
    this.checkPayload(data);
    return this.publish(group, null, data, true);
  }

  /** Every member of a group, on every node. Rejects `GROUP_NOT_FOUND` for a group that does not exist. */
  async members(group: GroupId, session: SessionId | null = null): Promise<MemberInfo[]> {
    this.assertOpen();
    this.requireGroupId(group);
    await this.before({ op: 'members', session, group });
    const local = this.groups.get(group);
    if (local) return [...local.members.values()];
    const snapshot = await this.backend.groups.snapshot(group);
    if (!snapshot) throw new RoomsError('GROUP_NOT_FOUND');
    return snapshot.members;
  }

  /** A group's state, size, member nodes and metadata. Rejects `GROUP_NOT_FOUND`. */
  async groupInfo(group: GroupId, session: SessionId | null = null): Promise<GroupInfo> {
    this.assertOpen();
    this.requireGroupId(group);
    await this.before({ op: 'group', session, group });
    const local = this.groups.get(group);
    if (local) {
      return { group, state: local.state, size: local.members.size, nodes: local.nodes(), meta: local.spec.meta, static: local.spec.static };
    }
    const snapshot = await this.backend.groups.snapshot(group);
    if (!snapshot) throw new RoomsError('GROUP_NOT_FOUND');
    const nodes = [...new Set(snapshot.members.map((m) => m.node))].sort();
    return { group, state: stateOfSnapshot(snapshot), size: snapshot.members.length, nodes, meta: snapshot.spec.meta, static: snapshot.spec.static };
  }

  /** The groups of a session and the newest it joined or created (PROTOCOL.md `groups`). */
  groupsOf(session: SessionId): { groups: GroupId[]; latest: GroupId | null } {
    return { groups: this.registry.groupsOf(session), latest: this.registry.latestOf(session) };
  }

  /**
   * A group's messages after offset `since`, in offset order (PROTOCOL.md `join` with `since`). `complete` is false
   * when the bounded history no longer holds every one of them. Rejects `GROUP_NOT_FOUND`, `UNAVAILABLE`.
   */
  async history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }> {
    this.assertOpen();
    this.requireGroupId(group);
    return this.backend.groups.history(group, since);
  }

  /** Ids of every group in the store (admin listing). */
  async listGroups(): Promise<GroupId[]> {
    this.assertOpen();
    return this.backend.groups.listGroups();
  }

  /** Discards a group now: its members get `discarded` (reason `admin`). Rejects `GROUP_NOT_FOUND`, and `FORBIDDEN` for static groups. */
  async discard(group: GroupId): Promise<void> {
    this.assertOpen();
    this.requireGroupId(group);
    const snapshot = this.groups.get(group)?.spec ?? (await this.backend.groups.snapshot(group))?.spec;
    if (!snapshot) throw new RoomsError('GROUP_NOT_FOUND');
    if (snapshot.static) throw new RoomsError('FORBIDDEN', 'static groups cannot be discarded');
    if (!(await this.backend.groups.discard(group, { ifEmpty: false, reason: 'admin' }))) throw new RoomsError('GROUP_NOT_FOUND');
  }

  /**
   * Ends a session as kicked, wherever it is held (this node or another): members see `left` with reason `kicked`,
   * the holder gets `onSessionEnded(…, 'kicked')`, no resume. Resolves once the holder ended it (a session of a dead
   * node just loses its record); false for a session unknown everywhere. Rejects `UNAVAILABLE` when the store or a
   * live holder cannot be reached.
   */
  async kick(session: SessionId): Promise<boolean> {
    this.assertOpen();
    if (this.registry.isRegistered(session)) {
      await this.kickHere(session);
      return true;
    }
    const record = await this.backend.sessions.read(session);
    if (!record) return false;
    // A record that still names this node has nobody to tell: the session is not registered here any more.
    if (record.node === this.nodeId) return true;
    const message: NodeMessage = { type: 'kick', session };
    try {
      await this.backend.bus.send(record.node, message);
    } catch (error) {
      if (this.backend.bus.liveNodes().includes(record.node)) throw error;
      // The holder is dead: its record just goes, so the session cannot be resumed elsewhere.
      await this.backend.sessions.drop(session, record.node);
    }
    return true;
  }

  /** Tells the node a session was taken from (fire-and-forget): it forgets the session and drops its connection. */
  private tellTaken(node: NodeId, session: SessionId): void {
    const message: NodeMessage = { type: 'taken', session };
    this.backend.bus.send(node, message).catch((error: unknown) => {
      // A dead holder has nothing to forget.
      if (this.backend.bus.liveNodes().includes(node)) this.logger.warn({ err: error, node, session }, 'telling the previous holder of a resumed session failed');
      else this.logger.debug({ err: error, node, session }, 'the previous holder of a resumed session is gone');
    });
  }

  /**
   * A message of another node's kernel (see `NodeMessage`); the return value is the reply. Anything else is refused
   * with `BAD_REQUEST` (logged here, once).
   */
  private onNodeMessage(from: NodeId, body: unknown): unknown {
    const message = parseNodeMessage(body);
    if (message === null) {
      this.logger.warn({ from }, 'unknown node message refused');
      throw new RoomsError('BAD_REQUEST', 'unknown node message');
    }
    if (message.type === 'kick') return this.kickFromNode(from, message.session);
    // The session was resumed elsewhere: forget it here without `left` events; its `rejoined` moves the member.
    const held = this.registry.isRegistered(message.session);
    this.registry.unregister(message.session);
    this.sessions.delete(message.session);
    if (held) this.endedHere(message.session, 'taken');
    return null;
  }

  /** Ends a session held here that another node kicked; resolves whether it was held here. */
  private async kickFromNode(from: NodeId, session: SessionId): Promise<boolean> {
    if (!this.registry.isRegistered(session)) return false;
    try {
      await this.kickHere(session);
    } catch (error) {
      this.logger.error({ err: error, session, from }, 'kick from another node failed');
      throw error;
    }
    return true;
  }

  private async kickHere(session: SessionId): Promise<void> {
    await this.unregisterSession(session, 'kicked');
    this.endedHere(session, 'kicked');
  }

  private endedHere(session: SessionId, reason: 'taken' | 'kicked'): void {
    try {
      this.options.onSessionEnded?.(session, reason);
    } catch (error) {
      this.logger.error({ err: error, session }, 'onSessionEnded threw');
    }
  }

  /** Counts for metrics: sessions, local groups by state. */
  stats(): { sessions: number; groups: Record<'created' | 'active' | 'empty-grace', number> } {
    const groups = { created: 0, active: 0, 'empty-grace': 0 };
    for (const local of this.groups.values()) groups[local.state]++;
    return { sessions: this.registry.sessionCount, groups };
  }

  // ---- replication ---------------------------------------------------------------------------------------------

  private readonly handler: BackendHandler = {
    onEvent: (event) => {
      try {
        this.apply(event);
      } catch (error) {
        this.logger.error({ err: error, event: event.type, group: event.group }, 'failed to apply a replica event');
      }
    },
    onNodeDown: (node) => this.logger.info({ node }, 'node down'),
    onOrphans: (groups) => {
      for (const group of groups) {
        // Watching is enough: the replica starts empty (`empty-grace`) and its grace ends in a discard.
        this.acquire(group).catch((error: unknown) => {
          if (!(error instanceof RoomsError && error.code === 'GROUP_NOT_FOUND')) this.logger.warn({ err: error, group }, 'could not adopt an orphaned group');
        });
      }
    },
    onReconnected: () => void this.reconcile(),
    onAvailability: (available) => {
      this.storeAvailable = available;
      this.logger.warn({ available }, 'shared store availability changed');
    },
    onNodeMessage: (from, body) => this.onNodeMessage(from, body),
  };

  private readonly lifecycle: GroupLifecycleListener = {
    onGraceExpired: (group) => void this.expire(group),
    onTick: (group) => {
      try {
        this.ticks.get(group)?.onTick(group);
      } catch (error) {
        this.logger.error({ err: error, group }, 'tick callback threw');
      }
    },
  };

  private apply(event: ReplicaEvent): void {
    const local = this.groups.get(event.group);
    if (!local || event.v <= local.v) return;
    if (event.v > local.v + 1) this.logger.warn({ group: event.group, have: local.v, got: event.v }, 'replica event gap');
    local.v = event.v;
    switch (event.type) {
      case 'message': {
        local.offset = event.offset;
        const message: DeliveryEvent = { ev: 'message', group: event.group, from: event.from, data: event.data, offset: event.offset };
        this.deliver(local, message, event.self ? null : event.from);
        break;
      }
      case 'joined':
        this.applyJoined(local, event.member);
        break;
      case 'left':
        // Our own connected member reported gone with its node: this node was wrongly declared dead (a stall).
        // It keeps the member; re-asserting (the heartbeat found itself fenced) puts it back in the store.
        if (event.reason === 'node-down' && event.member.node === this.nodeId && this.registry.has(local.id, event.member.id)) break;
        this.applyLeft(local, event.member, event.reason, event.data);
        break;
      case 'rejoined':
        this.applyRejoined(local, event.member, event.previousNode);
        break;
      case 'discarded':
        this.applyDiscarded(local, event.reason);
        break;
    }
    local.release();
  }

  private applyJoined(local: LocalGroup, member: MemberInfo): void {
    const known = local.members.get(member.id);
    local.members.set(member.id, member);
    if (member.node === this.nodeId && !this.registry.add(local.id, member.id)) {
      // The session ended while its join was in flight: take the member out again.
      void this.leaveInStore(local.id, member.id, 'disconnect');
    }
    // A member this replica already shows on that node is being re-asserted after the store lost it: the local
    // members knew it all along, so they are not told it joined.
    if (known?.node !== member.node) {
      const event: DeliveryEvent = { ev: 'joined', group: local.id, member };
      if (member.data !== undefined) event.data = member.data;
      this.deliver(local, event, member.id);
    }
    local.actor?.send({ type: 'SIZE', size: local.members.size });
    this.maybeRelease(local);
  }

  private applyLeft(local: LocalGroup, member: MemberInfo, reason: LeaveReason, data: unknown): void {
    local.members.delete(member.id);
    if (member.node === this.nodeId) this.registry.remove(local.id, member.id);
    const event: DeliveryEvent = { ev: 'left', group: local.id, member, reason };
    const payload = data !== undefined ? data : this.customDisconnect(member, local.id, reason);
    if (payload !== undefined) event.data = payload;
    this.deliver(local, event, member.id);
    local.actor?.send({ type: 'SIZE', size: local.members.size });
    this.maybeRelease(local);
  }

  private applyRejoined(local: LocalGroup, member: MemberInfo, previousNode: NodeId | null): void {
    local.members.set(member.id, member);
    if (previousNode === this.nodeId && member.node !== this.nodeId) this.registry.remove(local.id, member.id);
    if (member.node === this.nodeId && !this.registry.add(local.id, member.id)) {
      void this.leaveInStore(local.id, member.id, 'disconnect');
    }
    const event: DeliveryEvent = { ev: 'rejoined', group: local.id, member };
    const payload = this.options.rejoinMessage?.(member, local.id);
    if (payload !== undefined) event.data = payload;
    this.deliver(local, event, member.id);
    local.actor?.send({ type: 'SIZE', size: local.members.size });
    this.maybeRelease(local);
  }

  private applyDiscarded(local: LocalGroup, reason: DiscardReason): void {
    if (reason === 'admin') this.deliver(local, { ev: 'discarded', group: local.id, reason: 'admin' }, null);
    for (const session of this.registry.dropGroup(local.id)) void this.saveSessionRecord(session);
    this.forget(local);
  }

  private deliver(local: LocalGroup, event: DeliveryEvent, except: SessionId | null): void {
    const to = this.registry.sessionsOf(local.id);
    if (to.size === 0 || (to.size === 1 && except !== null && to.has(except))) return;
    try {
      this.delivery.deliver(event, to, except, local.spec.intervalMs);
    } catch (error) {
      this.logger.error({ err: error, group: local.id }, 'delivery port threw');
    }
  }

  private customDisconnect(member: MemberInfo, group: GroupId, reason: LeaveReason): unknown {
    if (reason !== 'disconnect' && reason !== 'node-down') return undefined;
    try {
      return this.options.disconnectMessage?.(member, group, reason);
    } catch (error) {
      this.logger.error({ err: error, group }, 'disconnectMessage threw');
      return undefined;
    }
  }

  // ---- group supervision ---------------------------------------------------------------------------------------

  /**
   * The local replica of a group with one more operation counted as in flight (`pending`), so it cannot be released
   * before the caller's `done(local)`. Re-acquires when the replica was replaced or released while being watched.
   */
  private async hold(group: GroupId): Promise<LocalGroup> {
    for (;;) {
      const local = await this.acquire(group);
      if (this.groups.get(group) === local) {
        local.pending++;
        return local;
      }
    }
  }

  /** Ends an operation counted by `hold`. */
  private done(local: LocalGroup): void {
    local.pending--;
    this.maybeRelease(local);
  }

  /** The local replica of a group, watching it first when needed. Rejects `GROUP_NOT_FOUND`. */
  private async acquire(group: GroupId): Promise<LocalGroup> {
    const known = this.groups.get(group);
    if (known) return known;
    let pending = this.acquiring.get(group);
    if (!pending) {
      pending = this.backend.groups
        .watch(group)
        .then((snapshot) => {
          if (!snapshot) throw new RoomsError('GROUP_NOT_FOUND');
          return this.groups.get(group) ?? this.adopt(snapshot);
        })
        .finally(() => this.acquiring.delete(group));
      this.acquiring.set(group, pending);
    }
    return pending;
  }

  /** Starts supervising a group from its snapshot (replacing a stale replica). */
  private adopt(snapshot: GroupSnapshot): LocalGroup {
    const stale = this.groups.get(snapshot.spec.id);
    if (stale) this.forget(stale);
    const local = new LocalGroup(snapshot);
    this.groups.set(local.id, local);
    const actor = createActor(GroupMachine, {
      clock: this.clock,
      input: {
        id: local.id,
        static: snapshot.spec.static,
        graceMs: snapshot.spec.ttlMs ?? this.emptyGraceMs,
        size: snapshot.members.length,
        everActive: snapshot.everActive,
        tickMs: this.ticks.get(local.id)?.everyMs ?? 0,
        listener: this.lifecycle,
        clock: this.clock,
      },
    });
    local.actor = actor;
    actor.start();
    return local;
  }

  /** Stops supervising a group: stops its actor, forgets its replica and its watch. */
  private forget(local: LocalGroup): void {
    if (this.groups.get(local.id) === local) this.groups.delete(local.id);
    if (local.releaseTimer !== null) this.clock.clearTimeout(local.releaseTimer);
    local.releaseTimer = null;
    local.actor?.send({ type: 'DISCARDED' });
    local.actor?.stop();
    local.actor = null;
    this.ticks.delete(local.id);
    local.releaseAll();
  }

  /**
   * Stops watching a group this node has no reason to follow: no local member, no operation in flight, and members
   * elsewhere (their nodes run its lifecycle). Groups that are empty stay watched here so their grace runs.
   */
  private maybeRelease(local: LocalGroup): void {
    if (!this.releasable(local) || local.releaseTimer !== null) return;
    // Not at once (as centrifuge): a member that comes back soon (join/leave churn, a reconnect) finds the group
    // still watched instead of paying a subscribe and a snapshot read again. Re-checked when the delay ends.
    local.releaseTimer = this.clock.setTimeout(() => {
      local.releaseTimer = null;
      if (this.groups.get(local.id) !== local || !this.releasable(local)) return;
      this.forget(local);
      this.backend.groups.unwatch(local.id).catch((error: unknown) => this.logger.warn({ err: error, group: local.id }, 'unwatch failed'));
    }, UNWATCH_DELAY_MS);
  }

  private releasable(local: LocalGroup): boolean {
    if (local.pending > 0 || local.spec.static || local.members.size === 0) return false;
    return this.registry.sessionsOf(local.id).size === 0 && !this.ticks.has(local.id);
  }

  private async expire(group: GroupId): Promise<void> {
    const local = this.groups.get(group);
    if (!local) return;
    try {
      const discarded = await this.backend.groups.discard(group, { ifEmpty: true, reason: 'empty' });
      if (!discarded && this.groups.get(group) === local) {
        await this.resync(local);
        // Someone joined and left again meanwhile: the actor's grace is spent, so start another one.
        if (this.groups.get(group) === local && local.members.size === 0) local.actor?.send({ type: 'RETRY' });
      }
    } catch (error) {
      this.logger.warn({ err: error, group }, 'discard after grace failed; retrying after another grace');
      local.actor?.send({ type: 'RETRY' });
    }
  }

  private async ensureStatic(id: GroupId): Promise<void> {
    this.requireGroupId(id);
    const spec: GroupSpec = { id, allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: NO_META, static: true };
    try {
      this.adopt(await this.backend.groups.createGroup(spec, null));
    } catch (error) {
      if (!(error instanceof RoomsError) || error.code !== 'GROUP_EXISTS') throw error;
      await this.acquire(id);
    }
  }

  /** Brings a replica in line with the store's snapshot, telling local members what they missed. */
  private async resync(local: LocalGroup): Promise<void> {
    const snapshot = await this.backend.groups.watch(local.id);
    if (this.groups.get(local.id) !== local) return;
    if (!snapshot) {
      this.applyDiscarded(local, 'empty');
      return;
    }
    const fresh = new Map(snapshot.members.map((m) => [m.id, m]));
    for (const member of [...local.members.values()]) {
      if (!fresh.has(member.id)) this.applyLeft(local, member, member.node === this.nodeId ? 'disconnect' : 'node-down', undefined);
    }
    for (const member of fresh.values()) if (!local.members.has(member.id)) this.applyJoined(local, member);
    local.spec = snapshot.spec;
    // Messages the replica missed (events lost or skipped while re-watching) come from the history, in order.
    if (snapshot.offset > local.offset) await this.deliverGap(local, snapshot.offset);
    local.offset = Math.max(local.offset, snapshot.offset);
    local.v = Math.max(local.v, snapshot.v);
    local.release();
  }

  private async deliverGap(local: LocalGroup, upTo: number): Promise<void> {
    const from = local.offset;
    let history: { messages: GroupMessage[]; complete: boolean };
    try {
      history = await this.backend.groups.history(local.id, from);
    } catch (error) {
      this.logger.warn({ err: error, group: local.id }, 'could not read the history to fill a gap');
      return;
    }
    if (!history.complete) this.logger.warn({ group: local.id, from, upTo }, 'history no longer holds every missed message');
    for (const message of history.messages) {
      if (message.offset <= local.offset || message.offset > upTo || this.groups.get(local.id) !== local) continue;
      local.offset = message.offset;
      this.deliver(local, { ev: 'message', group: local.id, from: message.from, data: message.data, offset: message.offset }, message.from);
    }
  }

  /**
   * Waits until the event `v` of this node's own change was applied; when it does not come within
   * `EVENT_WAIT_MS` (an event lost on the way), resyncs the replica from the store instead of waiting forever.
   */
  private async settle(local: LocalGroup, v: number): Promise<void> {
    if (local.v >= v) return;
    let timer: unknown = null;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(true), EVENT_WAIT_MS);
    });
    const late = await Promise.race([local.applied(v).then(() => false), timedOut]);
    this.clock.clearTimeout(timer);
    if (late && this.groups.get(local.id) === local) {
      this.logger.warn({ group: local.id, v }, 'own event did not arrive; resyncing the replica');
      await this.resync(local);
    }
  }

  /** After the store came back: retry refused leaves, re-assert our groups and members, then resync every replica. */
  private async reconcile(): Promise<void> {
    try {
      await this.retryLeaves();
      const mine: GroupSnapshot[] = [...this.groups.values()].map((local) => ({
        spec: local.spec,
        members: [...local.members.values()].filter((m) => m.node === this.nodeId && this.registry.has(local.id, m.id)),
        // Offsets never go back: also those acknowledged to senders whose events were lost with the store.
        offset: Math.max(local.offset, local.acknowledged),
        v: local.v,
        everActive: local.state !== 'created',
      }));
      await this.backend.groups.reassert(mine);
      for (const local of [...this.groups.values()]) await this.resync(local);
      for (const session of this.sessions.ids()) await this.saveSessionRecord(session);
    } catch (error) {
      this.logger.error({ err: error }, 'reconcile after the store came back failed');
    }
  }

  // ---- helpers -------------------------------------------------------------------------------------------------

  private publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean): Promise<PublishResult> {
    return this.backend.groups.publish(group, from, data, self).then(({ offset, size }) => {
      const local = this.groups.get(group);
      if (local && offset > local.acknowledged) local.acknowledged = offset;
      return { recipients: from === null || self ? size : size - 1, offset };
    });
  }

  private async leaveInStore(group: GroupId, session: SessionId, reason: LeaveReason): Promise<void> {
    try {
      await this.backend.groups.leave(group, session, reason);
    } catch (error) {
      if (error instanceof RoomsError && error.code === 'GROUP_NOT_FOUND') return;
      this.logger.warn({ err: error, group, session }, 'leave refused by the store; retried until it takes it');
      this.pendingLeaves.set(`${group}\u0000${session}`, { group, session, reason });
      this.scheduleLeaveRetry();
    }
  }

  /** Retries refused leaves every second while any is left (a timeout may refuse one while the store looks up). */
  private scheduleLeaveRetry(): void {
    if (this.leaveRetryTimer !== null || this.state === 'closed') return;
    this.leaveRetryTimer = this.clock.setTimeout(() => {
      this.leaveRetryTimer = null;
      void this.retryLeaves();
    }, 1000);
  }

  private async retryLeaves(): Promise<void> {
    for (const [key, leave] of [...this.pendingLeaves]) {
      this.pendingLeaves.delete(key);
      await this.leaveInStore(leave.group, leave.session, leave.reason);
    }
  }

  private async saveSessionRecord(session: SessionId): Promise<void> {
    const record = this.sessions.record(session, this.nodeId, this.registry.groupsOf(session), (group) => this.groups.get(group)?.offset ?? 0);
    if (!record) return;
    try {
      await this.backend.sessions.save(record);
    } catch (error) {
      this.logger.warn({ err: error, session }, 'saving the session record failed');
    }
  }

  private async expireSession(session: SessionId): Promise<void> {
    try {
      // Only while the store still says the session is ours: a resume elsewhere may have won the race with this timer.
      if (!(await this.backend.sessions.drop(session, this.nodeId))) {
        this.registry.unregister(session);
        this.sessions.delete(session);
        return;
      }
      await this.unregisterSession(session, 'disconnect');
    } catch (error) {
      this.logger.error({ err: error, session }, 'ending an expired session failed');
    }
  }

  private memberFor(session: SessionId, data: unknown): MemberInfo {
    const member: MemberInfo = { id: session, node: this.nodeId };
    const user = this.sessions.user(session);
    if (user !== undefined) member.user = user;
    if (data !== undefined) member.data = data;
    return member;
  }

  private async requireExists(group: GroupId): Promise<void> {
    if (this.groups.has(group)) return;
    if (!(await this.backend.groups.snapshot(group))) throw new RoomsError('GROUP_NOT_FOUND');
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

  private requireGroupId(group: GroupId): void {
    if (!isValidGroupId(group)) throw new RoomsError('BAD_REQUEST', 'invalid group id');
  }

  private checkPayload(data: unknown): void {
    const limit = this.options.maxPayloadBytes;
    if (limit === undefined) return;
    const size = Buffer.byteLength(JSON.stringify(data ?? null) ?? '');
    if (size > limit) throw new RoomsError('PAYLOAD_TOO_LARGE', `payload of ${size} bytes exceeds ${limit}`);
  }

  private assertOpen(): void {
    if (this.state === 'closed' || this.closing) throw new RoomsError('UNAVAILABLE', 'node is closed');
  }

  private async before(context: HookContext): Promise<void> {
    if (this.hooks.has(context.op)) await this.hooks.runBefore(context);
  }

  private async after(context: HookContext, result: unknown): Promise<void> {
    if (!this.hooks.has(context.op)) return;
    for (const error of await this.hooks.runAfter(context, result)) {
      this.logger.error({ err: error, op: context.op, group: context.group }, 'after-hook threw');
    }
  }

  private async shutdown(): Promise<void> {
    this.state = 'closed';
    if (this.leaveRetryTimer !== null) this.clock.clearTimeout(this.leaveRetryTimer);
    this.leaveRetryTimer = null;
    this.pendingLeaves.clear();
    this.registry.clear();
    this.sessions.clear();
    for (const local of [...this.groups.values()]) this.forget(local);
    this.ticks.clear();
    this.hooks.clear();
    await this.backend.close();
  }
}
