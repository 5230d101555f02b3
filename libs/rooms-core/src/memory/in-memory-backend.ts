import type { Backend, BackendHandler } from '../port/backend.js';
import type { ClusterBus, SendOptions } from '../port/cluster-bus.js';
import { DEFAULT_SEND_TIMEOUT_MS } from '../port/cluster-bus.js';
import type { GroupLog, GroupSnapshot, JoinOutcome } from '../port/group-log.js';
import type { SessionRecord, SessionStore, TakenSession, TakeOptions } from '../port/session-store.js';
import type { DiscardReason, GroupId, GroupMessage, GroupSpec, LeaveReason, MemberInfo, NodeId, SessionId } from '../types.js';
import { InMemoryStore } from './in-memory-store.js';

/**
 * InMemoryBackend: a backend over an `InMemoryStore`, for embedded single-node use (the default) and for running
 * several kernels in one process against one store in tests. Keeps every guarantee of the port; group events are
 * dispatched synchronously, before the call that caused them resolves (in `v` order, see `MemoryDispatch`), and bus
 * messages on a later microtask.
 */
export class InMemoryBackend implements Backend {
  readonly nodeId: NodeId;
  readonly store: InMemoryStore;
  readonly groups: GroupLog;
  readonly sessions: SessionStore;
  readonly bus: ClusterBus;
  private started = false;

  constructor(nodeId: NodeId, store: InMemoryStore = new InMemoryStore()) {
    this.nodeId = nodeId;
    this.store = store;
    this.groups = new MemoryGroupLog(nodeId, store);
    this.sessions = new MemorySessionStore(nodeId, store);
    this.bus = new MemoryClusterBus(nodeId, store);
  }

  async start(handler: BackendHandler): Promise<void> {
    if (this.started) return;
    this.store.attach(this.nodeId, handler);
    this.started = true;
  }

  async close(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.store.detach(this.nodeId);
  }
}

/** The group log of one node on the shared store. */
class MemoryGroupLog implements GroupLog {
  constructor(
    private readonly node: NodeId,
    private readonly store: InMemoryStore,
  ) {}

  async createGroup(spec: GroupSpec, first: MemberInfo | null): Promise<GroupSnapshot> {
    return this.store.groups.createGroup(this.node, spec, first);
  }

  async watch(group: GroupId): Promise<GroupSnapshot | null> {
    return this.store.groups.watch(this.node, group);
  }

  async unwatch(group: GroupId): Promise<void> {
    this.store.groups.unwatch(this.node, group);
  }

  async snapshot(group: GroupId): Promise<GroupSnapshot | null> {
    return this.store.groups.snapshot(this.node, group);
  }

  async listGroups(): Promise<GroupId[]> {
    return this.store.groups.listGroups(this.node);
  }

  async join(group: GroupId, member: MemberInfo): Promise<JoinOutcome> {
    return this.store.groups.join(this.node, group, member);
  }

  async leave(group: GroupId, member: SessionId, reason: LeaveReason, data?: unknown): Promise<number | null> {
    return this.store.groups.leave(this.node, group, member, reason, data);
  }

  async rejoin(group: GroupId, member: MemberInfo): Promise<number | null> {
    return this.store.groups.rejoin(this.node, group, member);
  }

  async publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean, json?: string): Promise<{ offset: number; size: number }> {
    return this.store.groups.publish(this.node, group, from, data, self, json);
  }

  async discard(group: GroupId, options: { ifEmpty: boolean; reason: DiscardReason }): Promise<boolean> {
    return this.store.groups.discard(this.node, group, options.ifEmpty, options.reason);
  }

  async history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }> {
    return this.store.groups.history(this.node, group, since);
  }

  async reassert(groups: GroupSnapshot[]): Promise<void> {
    this.store.groups.reassert(this.node, groups);
  }
}

/** The session store of one node on the shared store. */
class MemorySessionStore implements SessionStore {
  constructor(
    private readonly node: NodeId,
    private readonly store: InMemoryStore,
  ) {}

  async save(record: SessionRecord): Promise<boolean> {
    return this.store.sessions.save(this.node, record);
  }

  async take(session: SessionId, tokenHash: string, options: TakeOptions = {}): Promise<TakenSession | null> {
    return this.store.sessions.take(this.node, session, tokenHash, options);
  }

  async read(session: SessionId): Promise<SessionRecord | null> {
    return this.store.sessions.read(this.node, session);
  }

  async drop(session: SessionId, ifNode?: NodeId): Promise<boolean> {
    return this.store.sessions.drop(this.node, session, ifNode);
  }
}

/** The cluster bus as one node of the shared store sees it. */
class MemoryClusterBus implements ClusterBus {
  constructor(
    private readonly node: NodeId,
    private readonly store: InMemoryStore,
  ) {}

  liveNodes(): NodeId[] {
    const live = this.store.liveNodes();
    return live.includes(this.node) ? [this.node, ...live.filter((id) => id !== this.node)] : live;
  }

  send(node: NodeId, body: unknown, options: SendOptions = {}): Promise<unknown> {
    return this.store.bus.send(this.node, node, body, options.timeoutMs ?? DEFAULT_SEND_TIMEOUT_MS);
  }
}
