import type { GroupSnapshot, JoinOutcome, ReplicaHandler, Replicator, SessionRecord } from './replicator.js';
import { InMemoryStore } from './in-memory-store.js';
import type { DiscardReason, GroupId, GroupMessage, GroupSpec, LeaveReason, MemberInfo, NodeId, SessionId } from './types.js';

/**
 * InMemoryReplicator: the replication port over an `InMemoryStore`, for embedded single-node use (the default) and
 * for running several kernels in one process against one store in tests. Keeps every guarantee of `Replicator`;
 * events are dispatched synchronously, before the call that caused them resolves.
 */
export class InMemoryReplicator implements Replicator {
  readonly nodeId: NodeId;
  readonly store: InMemoryStore;
  private started = false;

  constructor(nodeId: NodeId, store: InMemoryStore = new InMemoryStore()) {
    this.nodeId = nodeId;
    this.store = store;
  }

  async start(handler: ReplicaHandler): Promise<void> {
    if (this.started) return;
    this.store.attach(this.nodeId, handler);
    this.started = true;
  }

  async close(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.store.detach(this.nodeId);
  }

  async createGroup(spec: GroupSpec, first: MemberInfo | null): Promise<GroupSnapshot> {
    return this.store.createGroup(this.nodeId, spec, first);
  }

  async watch(group: GroupId): Promise<GroupSnapshot | null> {
    return this.store.watch(this.nodeId, group);
  }

  async unwatch(group: GroupId): Promise<void> {
    this.store.unwatch(this.nodeId, group);
  }

  async snapshot(group: GroupId): Promise<GroupSnapshot | null> {
    return this.store.snapshot(this.nodeId, group);
  }

  async listGroups(): Promise<GroupId[]> {
    return this.store.listGroups(this.nodeId);
  }

  async join(group: GroupId, member: MemberInfo): Promise<JoinOutcome> {
    return this.store.join(this.nodeId, group, member);
  }

  async leave(group: GroupId, member: SessionId, reason: LeaveReason, data?: unknown): Promise<number | null> {
    return this.store.leave(this.nodeId, group, member, reason, data);
  }

  async rejoin(group: GroupId, member: MemberInfo): Promise<number | null> {
    return this.store.rejoin(this.nodeId, group, member);
  }

  async publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean): Promise<{ offset: number; size: number }> {
    return this.store.publish(this.nodeId, group, from, data, self);
  }

  async discard(group: GroupId, options: { ifEmpty: boolean; reason: DiscardReason }): Promise<boolean> {
    return this.store.discard(this.nodeId, group, options.ifEmpty, options.reason);
  }

  async history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }> {
    return this.store.history(this.nodeId, group, since);
  }

  async saveSession(record: SessionRecord): Promise<void> {
    this.store.saveSession(this.nodeId, record);
  }

  async takeSession(session: SessionId, tokenHash: string, options: { newTokenHash?: string; expectedUser?: string | null } = {}): Promise<SessionRecord | null> {
    return this.store.takeSession(this.nodeId, session, tokenHash, options);
  }

  async kickSession(session: SessionId): Promise<boolean> {
    return this.store.kickSession(this.nodeId, session);
  }

  async dropSession(session: SessionId, ifNode?: NodeId): Promise<boolean> {
    return this.store.dropSession(this.nodeId, session, ifNode);
  }

  liveNodes(): NodeId[] {
    return this.store.liveNodes();
  }

  async reassert(groups: GroupSnapshot[]): Promise<void> {
    this.store.reassert(this.nodeId, groups);
  }
}
