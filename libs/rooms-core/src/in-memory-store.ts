import { RoomsError } from '@rooms-kit/contract';
import type { Now } from './clock.js';
import type { GroupSnapshot, ReplicaEvent, ReplicaHandler, SessionRecord } from './replicator.js';
import type { DiscardReason, GroupId, GroupMessage, GroupSpec, MemberInfo, NodeId, SessionId } from './types.js';

type MessageEvent = Extract<ReplicaEvent, { type: 'message' }>;

/** A group as the in-memory store keeps it. */
interface StoredGroup {
  spec: GroupSpec;
  members: Map<SessionId, MemberInfo>;
  offset: number;
  v: number;
  everActive: boolean;
  /** Ring of the latest messages, allocated on the first message; slot = offset % size. */
  history: MessageEvent[] | null;
  /** The first offset the history can hold: 1, or after the offsets a re-created group inherited. */
  historyFrom: number;
}

/** One attached node, as the store sees it. */
interface AttachedNode {
  handler: ReplicaHandler;
  watching: Set<GroupId>;
  alive: boolean;
  diedAt: number | null;
}

/** Options of an `InMemoryStore`. */
export interface InMemoryStoreOptions {
  /** Messages kept per group for recovery. Default 1000. */
  historySize?: number;
  /** Wall clock for session expiry. Default `Date.now`. */
  now?: Now;
}

/**
 * InMemoryStore: the shared state behind `InMemoryReplicator`s, playing the part Redis plays in a cluster. Several
 * replicators (nodes) can attach to one store in one process; every operation is applied atomically (JavaScript runs
 * it to completion) and its event is dispatched synchronously, in order, to the nodes watching the group.
 * Test controls simulate faults: `setAvailable(false)` (store unreachable), `wipe()` (restart without persistence),
 * `killNode(id)` (a node's crash, detected at once).
 */
export class InMemoryStore {
  private readonly groups = new Map<GroupId, StoredGroup>();
  private readonly sessions = new Map<SessionId, SessionRecord>();
  private readonly nodes = new Map<NodeId, AttachedNode>();
  private readonly historySize: number;
  private readonly now: Now;
  private available = true;

  constructor(options: InMemoryStoreOptions = {}) {
    this.historySize = Math.max(1, options.historySize ?? 1000);
    this.now = options.now ?? Date.now;
  }

  /** Attaches a node. Rejects a node id seen before (ids are unique per process start). */
  attach(node: NodeId, handler: ReplicaHandler): void {
    if (this.nodes.has(node)) throw new RoomsError('INTERNAL', `node id ${node} was already used`);
    this.nodes.set(node, { handler, watching: new Set(), alive: true, diedAt: null });
  }

  /**
   * Detaches a node that closed: for the others it is gone like a crashed node (members it still has leave with
   * `node-down`; its sessions stay resumable elsewhere for their window).
   */
  detach(node: NodeId): void {
    this.killNode(node);
  }

  /** Ids of the attached nodes still alive. */
  liveNodes(): NodeId[] {
    return [...this.nodes].filter(([, n]) => n.alive).map(([id]) => id);
  }

  // ---- test controls ------------------------------------------------------------------------------------------

  /** Makes the store unreachable (every call rejects `UNAVAILABLE`) or reachable again (nodes get `onReconnected`). */
  setAvailable(available: boolean): void {
    if (this.available === available) return;
    this.available = available;
    for (const node of this.liveEntries()) node.handler.onAvailability(available);
    if (available) for (const node of this.liveEntries()) node.handler.onReconnected();
  }

  /** Loses every group and session, like a Redis restarted without persistence. Watches are lost too. */
  wipe(): void {
    this.groups.clear();
    this.sessions.clear();
    for (const node of this.nodes.values()) node.watching.clear();
  }

  /**
   * Simulates the crash of a node, detected at once: its members leave every group with `node-down`, the other
   * nodes get `onNodeDown`, and its sessions become resumable elsewhere for their window.
   */
  killNode(node: NodeId): void {
    const entry = this.nodes.get(node);
    if (!entry?.alive) return;
    entry.alive = false;
    entry.watching.clear();
    entry.diedAt = this.now();
    const orphans: GroupId[] = [];
    for (const [id, group] of this.groups) {
      let removed = false;
      for (const member of [...group.members.values()]) {
        if (member.node !== node) continue;
        group.members.delete(member.id);
        removed = true;
        this.emit(id, { type: 'left', group: id, v: ++group.v, member, reason: 'node-down', size: group.members.size });
      }
      if (removed && group.members.size === 0) orphans.push(id);
    }
    const survivors = [...this.liveEntries()];
    for (const other of survivors) other.handler.onNodeDown(node);
    // One survivor (the one that "cleaned up") takes over the lifecycle of the groups the dead node left empty.
    if (orphans.length > 0) survivors[0]?.handler.onOrphans(orphans);
  }

  // ---- operations (called by InMemoryReplicator) --------------------------------------------------------------

  /** @internal */
  check(node: NodeId): void {
    if (!this.available) throw new RoomsError('UNAVAILABLE');
    if (!this.nodes.get(node)?.alive) throw new RoomsError('UNAVAILABLE', 'this node is detached from the store');
  }

  /** @internal */
  createGroup(node: NodeId, spec: GroupSpec, first: MemberInfo | null): GroupSnapshot {
    this.check(node);
    if (this.groups.has(spec.id)) throw new RoomsError('GROUP_EXISTS');
    const group: StoredGroup = { spec, members: new Map(), offset: 0, v: 0, everActive: false, history: null, historyFrom: 1 };
    if (first) {
      group.members.set(first.id, first);
      group.everActive = true;
      group.v = 1;
    }
    this.groups.set(spec.id, group);
    this.watch(node, spec.id);
    return toSnapshot(group);
  }

  /** @internal */
  watch(node: NodeId, id: GroupId): GroupSnapshot | null {
    this.check(node);
    const group = this.groups.get(id);
    if (!group) return null;
    this.nodes.get(node)?.watching.add(id);
    return toSnapshot(group);
  }

  /** @internal */
  unwatch(node: NodeId, id: GroupId): void {
    this.nodes.get(node)?.watching.delete(id);
  }

  /** @internal */
  snapshot(node: NodeId, id: GroupId): GroupSnapshot | null {
    this.check(node);
    const group = this.groups.get(id);
    return group ? toSnapshot(group) : null;
  }

  /** @internal */
  listGroups(node: NodeId): GroupId[] {
    this.check(node);
    return [...this.groups.keys()];
  }

  /** @internal */
  join(node: NodeId, id: GroupId, member: MemberInfo): { already: boolean; v: number; offset: number } {
    const group = this.require(node, id);
    if (group.members.has(member.id)) return { already: true, v: group.v, offset: group.offset };
    if (group.spec.maxMembers !== null && group.members.size >= group.spec.maxMembers) throw new RoomsError('GROUP_FULL');
    group.members.set(member.id, member);
    group.everActive = true;
    const v = ++group.v;
    this.emit(id, { type: 'joined', group: id, v, member, size: group.members.size });
    return { already: false, v, offset: group.offset };
  }

  /** @internal */
  leave(node: NodeId, id: GroupId, session: SessionId, reason: Extract<ReplicaEvent, { type: 'left' }>['reason'], data: unknown): number | null {
    const group = this.require(node, id);
    const member = group.members.get(session);
    if (!member) return null;
    group.members.delete(session);
    const v = ++group.v;
    const event: ReplicaEvent = { type: 'left', group: id, v, member, reason, size: group.members.size };
    if (data !== undefined) event.data = data;
    this.emit(id, event);
    return v;
  }

  /** @internal */
  rejoin(node: NodeId, id: GroupId, member: MemberInfo): number | null {
    this.check(node);
    const group = this.groups.get(id);
    if (!group) return null;
    const previous = group.members.get(member.id);
    if (!previous && group.spec.maxMembers !== null && group.members.size >= group.spec.maxMembers) return null;
    const moved = previous ? { ...previous, node: member.node } : member;
    group.members.set(member.id, moved);
    group.everActive = true;
    const v = ++group.v;
    this.emit(id, { type: 'rejoined', group: id, v, member: moved, previousNode: previous?.node ?? null, size: group.members.size });
    return v;
  }

  /** @internal */
  publish(node: NodeId, id: GroupId, from: SessionId | null, data: unknown, self: boolean): { offset: number; size: number } {
    const group = this.require(node, id);
    const offset = ++group.offset;
    const v = ++group.v;
    const event: MessageEvent = { type: 'message', group: id, v, from, data, offset, self };
    const history = (group.history ??= new Array<MessageEvent>(this.historySize));
    history[offset % this.historySize] = event;
    this.emit(id, event);
    return { offset, size: group.members.size };
  }

  /** @internal */
  discard(node: NodeId, id: GroupId, ifEmpty: boolean, reason: DiscardReason): boolean {
    this.check(node);
    const group = this.groups.get(id);
    if (!group || group.spec.static) return false;
    if (ifEmpty && group.members.size > 0) return false;
    this.groups.delete(id);
    this.emit(id, { type: 'discarded', group: id, v: group.v + 1, reason });
    for (const entry of this.nodes.values()) entry.watching.delete(id);
    return true;
  }

  /** @internal */
  history(node: NodeId, id: GroupId, since: number): { messages: GroupMessage[]; complete: boolean } {
    const group = this.require(node, id);
    const oldest = Math.max(group.historyFrom, group.offset - this.historySize + 1);
    const first = Math.max(since + 1, oldest);
    const messages: GroupMessage[] = [];
    for (let offset = first; offset <= group.offset; offset++) {
      const event = group.history?.[offset % this.historySize];
      if (event?.offset === offset) messages.push({ group: id, from: event.from, data: event.data, offset });
    }
    return { messages, complete: since + 1 >= oldest || since >= group.offset };
  }

  /** @internal */
  saveSession(node: NodeId, record: SessionRecord): void {
    this.check(node);
    const held = this.sessions.get(record.id);
    if (held && held.node !== record.node) return;
    this.sessions.set(record.id, { ...record, groups: { ...record.groups } });
  }

  /** @internal */
  takeSession(node: NodeId, id: SessionId, tokenHash: string, options: { newTokenHash?: string; expectedUser?: string | null }): SessionRecord | null {
    this.check(node);
    const record = this.sessions.get(id);
    if (!record || record.tokenHash !== tokenHash) return null;
    if (options.expectedUser !== undefined && (record.user ?? null) !== options.expectedUser) return null;
    const holder = this.nodes.get(record.node);
    const now = this.now();
    const holderAlive = holder?.alive === true;
    const resumable =
      record.expiresAt !== null
        ? record.expiresAt > now
        : holderAlive || (holder?.diedAt != null && holder.diedAt + record.windowMs > now);
    if (!resumable) return null;
    const previous = record.node;
    record.node = node;
    record.expiresAt = null;
    if (options.newTokenHash !== undefined) record.tokenHash = options.newTokenHash;
    if (previous !== node && holderAlive) holder.handler.onSessionTaken(id);
    return { ...record, groups: { ...record.groups } };
  }

  /** @internal */
  kickSession(node: NodeId, id: SessionId): boolean {
    this.check(node);
    const record = this.sessions.get(id);
    if (!record) return false;
    const holder = this.nodes.get(record.node);
    if (record.node !== node && holder?.alive) holder.handler.onSessionKicked(id);
    else if (record.node !== node) this.sessions.delete(id);
    return true;
  }

  /** @internal */
  dropSession(node: NodeId, id: SessionId, ifNode: NodeId | undefined): boolean {
    this.check(node);
    const record = this.sessions.get(id);
    if (ifNode !== undefined && record !== undefined && record.node !== ifNode) return false;
    this.sessions.delete(id);
    return true;
  }

  /** @internal Re-creates groups and members a node holds when the store lost them; never overrides. */
  reassert(node: NodeId, snapshots: GroupSnapshot[]): void {
    this.check(node);
    for (const snap of snapshots) {
      let group = this.groups.get(snap.spec.id);
      if (!group) {
        // Offsets must not go back: continue from the highest the node saw.
        group = { spec: snap.spec, members: new Map(), offset: snap.offset, v: snap.v, everActive: snap.everActive, history: null, historyFrom: snap.offset + 1 };
        this.groups.set(snap.spec.id, group);
      }
      for (const member of snap.members) {
        if (member.node !== node || group.members.has(member.id)) continue;
        group.members.set(member.id, member);
        group.everActive = true;
        this.emit(snap.spec.id, { type: 'joined', group: snap.spec.id, v: ++group.v, member, size: group.members.size });
      }
      this.nodes.get(node)?.watching.add(snap.spec.id);
    }
  }

  private require(node: NodeId, id: GroupId): StoredGroup {
    this.check(node);
    const group = this.groups.get(id);
    if (!group) throw new RoomsError('GROUP_NOT_FOUND');
    return group;
  }

  private emit(id: GroupId, event: ReplicaEvent): void {
    for (const entry of this.nodes.values()) {
      if (entry.alive && entry.watching.has(id)) entry.handler.onEvent(event);
    }
  }

  private *liveEntries(): Iterable<AttachedNode> {
    for (const entry of this.nodes.values()) if (entry.alive) yield entry;
  }
}

function toSnapshot(group: StoredGroup): GroupSnapshot {
  return { spec: group.spec, members: [...group.members.values()], offset: group.offset, v: group.v, everActive: group.everActive };
}
