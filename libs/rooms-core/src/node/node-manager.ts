import { RoomsError } from '@rooms-kit/contract';
import { systemClock } from '../clock.js';
import type { GroupOperations } from '../groups/group-operations.js';
import type { CreateRequest, CreateResult, JoinResult, PublishResult } from '../groups/group-requests.js';
import { requireGroupId } from '../groups/request-checks.js';
import { HookRegistry } from '../hooks.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { InMemoryBackend } from '../memory/in-memory-backend.js';
import { MembershipRegistry } from '../membership-registry.js';
import type { Backend, BackendHandler } from '../port/backend.js';
import type { SessionMessenger } from '../sessions/session-messenger.js';
import type { ResumeResult, SessionService } from '../sessions/session-service.js';
import type { NodeView, SessionView } from '../sessions/session-view.js';
import type { GroupSupervisor } from '../supervision/group-supervisor.js';
import type { GroupId, GroupInfo, GroupMessage, GroupState, LeaveReason, MemberInfo, NodeId, SessionId } from '../types.js';
import { NodeLifecycle } from './node-lifecycle.js';
import type { NodeManagerOptions } from './node-manager-options.js';
import type { KernelParts } from './kernel-parts.js';
import { assembleKernel } from './kernel-parts.js';
import { unsettledStore } from './store-gate.js';

/**
 * NodeManager: the kernel of one node. It keeps this node's sessions and their memberships (`MembershipRegistry`),
 * supervises one `GroupMachine` actor per group it watches, runs hooks, drives every change through the `Backend`
 * (group log, session store; the cluster bus to reach other nodes' sessions) and applies the replicated events it gets
 * back, delivering member events to local sessions through the `DeliveryPort`. Operations reject with `RoomsError` codes of docs/protocol.md's catalog; nothing changes on a refusal.
 *
 * Embedding: `const node = new NodeManager({ delivery }); await node.start();` then register sessions and call the
 * operations. `close()` stops every actor, timer and the backend.
 *
 * A thin facade: the node's lifecycle is a machine (`NodeLifecycle`), and the work is done by the session service,
 * the group operations, the replica applier, the group supervision and the reconciler (see `assembleKernel`).
 */
export class NodeManager {
  readonly nodeId: NodeId;
  readonly hooks = new HookRegistry();
  readonly registry = new MembershipRegistry();
  private readonly backend: Backend;
  private readonly logger: Logger;
  private readonly staticGroups: readonly GroupId[];
  private readonly lifecycle = new NodeLifecycle();
  private readonly sessions: SessionService;
  private readonly messenger: SessionMessenger;
  private readonly operations: GroupOperations;
  private readonly supervisor: GroupSupervisor;
  private readonly parts: KernelParts;
  /** How the backend reaches this node: replicated events, node deaths, orphans, reconnects, node messages. */
  private readonly handler: BackendHandler;
  /** The one `close()` run, shared by every call (close is idempotent). */
  private closing: Promise<void> | null = null;

  constructor(options: NodeManagerOptions) {
    this.nodeId = options.backend?.nodeId ?? options.nodeId ?? `node-${globalThis.crypto.randomUUID()}`;
    this.backend = options.backend ?? new InMemoryBackend(this.nodeId);
    this.logger = options.logger ?? silentLogger;
    this.staticGroups = options.staticGroups ?? [];
    this.parts = assembleKernel({
      ...options,
      nodeId: this.nodeId,
      backend: this.backend,
      clock: options.clock ?? systemClock,
      now: options.now ?? Date.now,
      logger: this.logger,
      lifecycle: this.lifecycle,
      registry: this.registry,
      hooks: this.hooks,
    });
    this.sessions = this.parts.sessions;
    this.messenger = this.parts.messenger;
    this.operations = this.parts.operations;
    this.supervisor = this.parts.supervisor;
    this.handler = this.backendHandler();
  }

  /**
   * True once started and until closed, except while draining, while the store is unreachable, and after it came
   * back until this node re-asserted its groups and members there (for `/readyz`).
   */
  get ready(): boolean {
    return this.lifecycle.ready;
  }

  /**
   * True while the shared store can be reached and holds this node's groups and members: false from a loss until the
   * re-assert after it. Meanwhile group operations and resumes reject `UNAVAILABLE` (temporary).
   */
  get available(): boolean {
    return this.lifecycle.storeSettled;
  }

  /** True after `drain()`. */
  get isDraining(): boolean {
    return this.lifecycle.isDraining;
  }

  /**
   * Starts the backend and creates the static groups. Resolves once the node can serve. Rejects `INTERNAL` when
   * called twice, and `UNAVAILABLE` when the node was closed before the start finished (the backend is closed again).
   */
  async start(): Promise<void> {
    this.lifecycle.begin();
    await this.backend.start(this.handler);
    if (!this.lifecycle.isOpen) {
      await this.backend.close();
      throw new RoomsError('UNAVAILABLE', 'node closed while starting');
    }
    for (const id of this.staticGroups) {
      requireGroupId(id);
      await this.supervisor.ensureStatic(id);
    }
    this.lifecycle.started();
    this.parts.checkpoint.start();
  }

  /** Refuses new groups from now on (`NODE_DRAINING`); everything else keeps working. */
  drain(): void {
    this.lifecycle.drain();
  }

  /** Stops every actor, timer and the backend. Idempotent; operations after it reject. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ---- sessions ------------------------------------------------------------------------------------------------

  /** Registers a connected session so it can create, join and receive events. `tokenHash` makes it resumable. */
  async registerSession(session: SessionId, info: { user?: string; tokenHash?: string } = {}): Promise<void> {
    await this.sessions.register(session, info);
    this.parts.checkpoint.track(session);
  }

  /** True when the session is registered here (connected or suspended). */
  hasSession(session: SessionId): boolean {
    return this.sessions.has(session);
  }

  /**
   * Ends a session: it leaves every group (members get `left` with `reason`) and is forgotten, also in the store.
   * Leaves the store cannot take now are retried when it is back.
   */
  unregisterSession(session: SessionId, reason: LeaveReason = 'disconnect'): Promise<void> {
    this.parts.checkpoint.untrack(session);
    return this.sessions.unregister(session, reason);
  }

  /** Leaves every group of the session, which stays registered. */
  leaveAll(session: SessionId, reason: LeaveReason = 'leave'): Promise<void> {
    return this.sessions.leaveAll(session, reason);
  }

  /**
   * Keeps a session whose connection dropped resumable for the resume window: its memberships stay (members see
   * nothing) and `offsets` (per group, the last offset written to the connection) say where a replay starts.
   * When the window ends without a resume the session ends with `left` reason `disconnect`.
   */
  suspendSession(session: SessionId, offsets: Record<GroupId, number>): Promise<void> {
    // The suspension's offsets are exact: no checkpoint may overwrite them with the node's.
    this.parts.checkpoint.untrack(session);
    return this.sessions.suspend(session, offsets);
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
    // A store back from a loss may not hold the session's record yet: refused (temporary) rather than lost.
    if (!this.lifecycle.storeSettled) return unsettledStore();
    const result = await this.sessions.resume(session, tokenHash, newTokenHash, expectedUser);
    if (result) this.parts.checkpoint.track(session);
    return result;
  }

  // ---- operations ----------------------------------------------------------------------------------------------

  /**
   * Creates a group. With `join` (default) the session is its first member, atomically. Rejects `BAD_REQUEST`
   * (`allowEmpty:false` with `join:false`, bad id, `data` or `meta` nested deeper than `MAX_PAYLOAD_DEPTH`),
   * `PAYLOAD_TOO_LARGE` (`data` over `maxMemberDataBytes`, `meta` over `maxMetaBytes`), `FORBIDDEN` (the session's
   * `maxGroupsPerSession` or `maxCreatedGroupsPerSession`), `GROUP_EXISTS`, `NODE_DRAINING`, `UNAVAILABLE` (also the
   * node's `maxGroups`, with a message saying so).
   */
  create(session: SessionId | null, request: CreateRequest = {}): Promise<CreateResult> {
    return this.operations.create(session, request);
  }

  /**
   * Joins a session to a group. Joining a group it is in succeeds with `already: true` and no event. Rejects
   * `BAD_REQUEST` (`data` too deep), `PAYLOAD_TOO_LARGE` (`data` over `maxMemberDataBytes`), `GROUP_NOT_FOUND`,
   * `GROUP_FULL`, `FORBIDDEN` (hook, `maxGroupsPerSession`), `UNAVAILABLE`. Other members get `joined`.
   */
  join(session: SessionId, group: GroupId, options: { data?: unknown } = {}): Promise<JoinResult> {
    return this.operations.join(session, group, options);
  }

  /**
   * Removes a session from a group; members get `left` with reason `leave`. Rejects `BAD_REQUEST` (`data` too deep),
   * `PAYLOAD_TOO_LARGE` (`data` over `maxMemberDataBytes`), `NOT_MEMBER`, `GROUP_NOT_FOUND`, `FORBIDDEN` (hook),
   * `UNAVAILABLE`.
   */
  leave(session: SessionId, group: GroupId, options: { data?: unknown } = {}): Promise<{ group: GroupId }> {
    return this.operations.leave(session, group, options);
  }

  /**
   * Sends `data` to the other members of a group (and to the sender with `self`). Every message gets the group's next
   * offset. Rejects `NOT_MEMBER`, `GROUP_NOT_FOUND`, `BAD_REQUEST` (`data` too deep), `PAYLOAD_TOO_LARGE`,
   * `UNAVAILABLE`. `recipients` counts the members it was addressed to, on every node.
   */
  broadcast(session: SessionId, group: GroupId, data: unknown, options: { self?: boolean } = {}): Promise<PublishResult> {
    // Not `async`: the hot path returns the group log's promise with one `.then`, no extra await layers.
    return this.operations.broadcast(session, group, data, options.self ?? false);
  }

  /**
   * Server-side broadcast with `from: null` to every member; needs no membership. Rejects `GROUP_NOT_FOUND`,
   * `BAD_REQUEST` (`data` too deep), `PAYLOAD_TOO_LARGE`.
   */
  announce(group: GroupId, data: unknown): Promise<PublishResult> {
    return this.operations.announce(group, data);
  }

  /** Every member of a group, on every node. Rejects `GROUP_NOT_FOUND` for a group that does not exist. */
  members(group: GroupId, session: SessionId | null = null): Promise<MemberInfo[]> {
    return this.operations.members(group, session);
  }

  /** A group's state, size, member nodes and metadata. Rejects `GROUP_NOT_FOUND`. */
  groupInfo(group: GroupId, session: SessionId | null = null): Promise<GroupInfo> {
    return this.operations.groupInfo(group, session);
  }

  /** The groups of a session and the newest it joined or created (docs/protocol.md `groups`). */
  groupsOf(session: SessionId): { groups: GroupId[]; latest: GroupId | null } {
    return { groups: this.registry.groupsOf(session), latest: this.registry.latestOf(session) };
  }

  /**
   * A group's messages after offset `since`, in offset order (docs/protocol.md `join` with `since`). `complete` is false
   * when the bounded history no longer holds every one of them. Rejects `GROUP_NOT_FOUND`, `UNAVAILABLE`.
   */
  history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }> {
    return this.operations.history(group, since);
  }

  /** Ids of every group in the store (admin listing). */
  listGroups(): Promise<GroupId[]> {
    return this.operations.listGroups();
  }

  /** Discards a group now: its members get `discarded` (reason `admin`). Rejects `GROUP_NOT_FOUND`, and `FORBIDDEN` for static groups. */
  discard(group: GroupId): Promise<void> {
    return this.operations.discard(group);
  }

  /**
   * Ends a session as kicked, wherever it is held (this node or another): members see `left` with reason `kicked`,
   * the holder gets `onSessionEnded(…, 'kicked')`, no resume. Resolves once the holder ended it (a session of a dead
   * node just loses its record); false for a session unknown everywhere. Rejects `UNAVAILABLE` when the store or a
   * live holder cannot be reached.
   */
  async kick(session: SessionId): Promise<boolean> {
    this.lifecycle.assertOpen();
    return this.messenger.kick(session);
  }

  /**
   * A session as the admin API shows it, wherever it is held: its user (null without one), holder, whether it is
   * connected (false while suspended, or when its holder is dead), and its groups. The holder is asked over the cluster
   * bus. Null for a session unknown everywhere. Rejects `UNAVAILABLE` when the store or a live holder cannot be reached.
   */
  async describeSession(session: SessionId): Promise<SessionView | null> {
    this.lifecycle.assertOpen();
    return this.messenger.describe(session);
  }

  /**
   * Every live node of the cluster, this one first: its id and figures (sessions held, groups held). Other nodes are
   * asked over the bus with a bounded wait; one that does not answer in time shows null figures. Never rejects for
   * another node's silence.
   */
  async nodes(): Promise<NodeView[]> {
    this.lifecycle.assertOpen();
    return this.messenger.nodes();
  }

  /** Counts for metrics: sessions, local groups by state. */
  stats(): { sessions: number; groups: Record<GroupState, number> } {
    return { sessions: this.registry.sessionCount, groups: this.supervisor.stats() };
  }

  private backendHandler(): BackendHandler {
    const { applier, reconciler } = this.parts;
    return {
      // Every replicated event (each broadcast) comes this way: straight to the applier.
      onEvent: applier.onEvent,
      onNodeDown: (node) => {
        this.parts.verdicts.reportDown(node);
        this.logger.info({ node }, 'node down');
      },
      onOrphans: (groups) => this.supervisor.adoptOrphans(groups),
      onReconnected: () => {
        this.lifecycle.reconciling();
        reconciler.reconnected();
      },
      onAvailability: (available) => {
        this.lifecycle.store(available);
        if (!available) reconciler.storeLost();
        this.logger.warn({ available }, 'shared store availability changed');
      },
      onNodeMessage: (from, body) => this.messenger.onNodeMessage(from, body),
    };
  }

  private async shutdown(): Promise<void> {
    this.lifecycle.beginClose();
    this.parts.checkpoint.close();
    this.parts.reconciler.close();
    this.parts.resync.close();
    this.parts.leaves.close();
    this.registry.clear();
    this.sessions.close();
    this.supervisor.close();
    this.hooks.clear();
    await this.backend.close();
    this.lifecycle.closed();
  }
}
