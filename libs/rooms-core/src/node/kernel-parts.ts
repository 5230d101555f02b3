import type { Clock, Now } from '../clock.js';
import { GroupOperations } from '../groups/group-operations.js';
import type { HookRegistry } from '../hooks.js';
import type { Logger } from '../logger.js';
import type { MembershipRegistry } from '../membership-registry.js';
import type { Backend } from '../port/backend.js';
import { LeaveRetrier } from '../reconcile/leave-retrier.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { ReplicaApplier } from '../replica/replica-applier.js';
import { NodeVerdicts } from '../replica/node-verdicts.js';
import { ReplicaResync } from '../replica/replica-resync.js';
import { DEFAULT_OFFSET_CHECKPOINT_MS, OffsetCheckpoint } from '../sessions/offset-checkpoint.js';
import { SessionMessenger } from '../sessions/session-messenger.js';
import { SessionService } from '../sessions/session-service.js';
import { GroupSupervisor } from '../supervision/group-supervisor.js';
import type { GroupId, LeaveReason, NodeId, SessionId } from '../types.js';
import type { LocalGroup } from '../replica/local-group.js';
import type { NodeLifecycle } from './node-lifecycle.js';
import type { NodeManagerOptions } from './node-manager-options.js';
import { DEFAULT_NODE_TTL_MS } from './node-manager-options.js';
import { GatedGroupLog, unsettledStore } from './store-gate.js';

/** What `assembleKernel` builds the parts from: the node's options with their defaults resolved, and what it shares. */
export interface KernelSettings extends NodeManagerOptions {
  nodeId: NodeId;
  backend: Backend;
  clock: Clock;
  now: Now;
  logger: Logger;
  lifecycle: NodeLifecycle;
  registry: MembershipRegistry;
  hooks: HookRegistry;
}

/** The parts of a node's kernel, each with one job, as `NodeManager` drives them. */
export interface KernelParts {
  sessions: SessionService;
  messenger: SessionMessenger;
  operations: GroupOperations;
  supervisor: GroupSupervisor;
  applier: ReplicaApplier;
  resync: ReplicaResync;
  reconciler: Reconciler;
  leaves: LeaveRetrier;
  checkpoint: OffsetCheckpoint;
  /** The nodes the liveness reported dead (`BackendHandler.onNodeDown` reports them here). */
  verdicts: NodeVerdicts;
}

/**
 * Builds and wires the parts of one node's kernel. Each part gets only the small interface it needs of the others;
 * where two parts need each other (a resync applies events, the applier forgets discarded groups, a resume tells the
 * previous holder) the later one is reached through a closure, called only once everything is built.
 * The parts that act for clients (group operations, sessions) reach the store through a `GatedGroupLog` and hold
 * groups only while the store is settled; the node's own upkeep (supervision, resync, reconcile, refused leaves)
 * uses the group log itself.
 */
export function assembleKernel(settings: KernelSettings): KernelParts {
  const { nodeId, backend, clock, logger, lifecycle, registry } = settings;
  const groups = backend.groups;
  const gated = new GatedGroupLog(groups, lifecycle);
  const holdIfSettled = (group: GroupId): Promise<LocalGroup> => (lifecycle.storeSettled ? supervisor.hold(group) : unsettledStore());
  const leaves = new LeaveRetrier({ groups, logger, clock });
  const verdicts = new NodeVerdicts();
  const leaveInStore = (group: GroupId, session: SessionId, reason: LeaveReason): Promise<void> => leaves.leave(group, session, reason);
  const supervisor: GroupSupervisor = new GroupSupervisor({
    groups,
    registry,
    node: lifecycle,
    clock,
    logger,
    emptyGraceMs: settings.emptyGraceMs ?? 5000,
    resync: (local) => resync.resync(local),
    limits: { maxGroups: settings.maxGroups, maxCreatedPerSession: settings.maxCreatedGroupsPerSession },
  });
  const sessions: SessionService = new SessionService({
    nodeId,
    store: backend.sessions,
    groups: gated,
    registry,
    node: lifecycle,
    supervisor: {
      hold: holdIfSettled,
      done: (local) => supervisor.done(local),
      offsetOf: (group) => supervisor.offsetOf(group),
      localMembersLeft: (left) => supervisor.localMembersLeft(left),
    },
    settle: (local, v) => resync.settle(local, v),
    leaveInStore,
    tellTaken: (node, session) => messenger.tellTaken(node, session),
    onSessionEnded: (session, reason) => {
      // Taken or kicked: no longer connected here, its record is not this node's to checkpoint.
      checkpoint.untrack(session);
      settings.onSessionEnded?.(session, reason);
    },
    logger,
    clock,
    now: settings.now,
    resumeWindowMs: settings.resumeWindowMs ?? 30_000,
  });
  const applier: ReplicaApplier = new ReplicaApplier({
    nodeId,
    registry,
    delivery: settings.delivery,
    logger,
    host: supervisor,
    leaveInStore,
    saveSession: (session) => sessions.save(session),
    disconnectMessage: settings.disconnectMessage,
    rejoinMessage: settings.rejoinMessage,
    // A failure is logged by the resync, which tries again by itself while the replica holds its events.
    gapFound: (local) => void resync.resync(local).catch(() => undefined),
  });
  const resync: ReplicaResync = new ReplicaResync({
    nodeId,
    groups,
    host: supervisor,
    applier,
    store: lifecycle,
    bus: backend.bus,
    verdicts,
    confirmMs: settings.nodeTtlMs ?? DEFAULT_NODE_TTL_MS,
    clock,
    logger,
  });
  const messenger: SessionMessenger = new SessionMessenger({
    nodeId,
    bus: backend.bus,
    store: backend.sessions,
    sessions,
    groupsOf: (session) => registry.groupsOf(session),
    figures: () => ({ connections: registry.sessionCount, groups: sumOf(Object.values(supervisor.stats())) }),
    logger,
  });
  const operations = new GroupOperations({
    groups: gated,
    registry,
    hooks: settings.hooks,
    node: lifecycle,
    supervisor: {
      watched: supervisor.watched,
      hold: holdIfSettled,
      done: (local) => supervisor.done(local),
      adopt: (snapshot, tick) => supervisor.adopt(snapshot, tick),
      creations: supervisor.creations,
    },
    settle: (local, v) => resync.settle(local, v),
    sessions,
    leaveInStore,
    logger,
    maxPayloadBytes: settings.maxPayloadBytes,
    maxGroupsPerSession: settings.maxGroupsPerSession,
    maxMemberDataBytes: settings.maxMemberDataBytes,
    maxMetaBytes: settings.maxMetaBytes,
  });
  const reconciler = new Reconciler({
    nodeId,
    groups,
    registry,
    replicas: () => supervisor.watched.values(),
    retryLeaves: () => leaves.retryAll(),
    resync: (local) => resync.resync(local),
    saveSessions: () => sessions.saveAll(),
    reasserted: () => lifecycle.reasserted(),
    clock,
    logger,
  });
  const checkpoint: OffsetCheckpoint = new OffsetCheckpoint({
    everyMs: settings.offsetCheckpointMs ?? DEFAULT_OFFSET_CHECKPOINT_MS,
    clock,
    logger,
    groupsOf: (session) => registry.groupsOf(session),
    offsetOf: (group) => supervisor.offsetOf(group),
    save: (session) => sessions.save(session),
    mayRun: () => lifecycle.storeSettled,
  });
  return { sessions, messenger, operations, supervisor, applier, resync, reconciler, leaves, checkpoint, verdicts };
}

function sumOf(counts: number[]): number {
  return counts.reduce((sum, count) => sum + count, 0);
}
