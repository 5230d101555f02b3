import { RoomsError } from '@rooms-kit/contract';
import type { GroupSnapshot, JoinOutcome, ReassertedGroup, ReplicaEvent, RestoredMessage } from '../port/group-log.js';
import type { DiscardReason, GroupId, GroupMessage, GroupSpec, LeaveReason, MemberInfo, NodeId, SessionId } from '../types.js';
import type { AttachedNode, AttachedNodes } from './attached-nodes.js';
import { MemoryDispatch } from './memory-dispatch.js';
import { MemoryHistory } from './memory-history.js';

type MessageEvent = Extract<ReplicaEvent, { type: 'message' }>;

/** A group as the in-memory store keeps it. */
interface StoredGroup {
  spec: GroupSpec;
  members: Map<SessionId, MemberInfo>;
  offset: number;
  v: number;
  everActive: boolean;
  /** The latest messages, made on the first message (most groups of a node never get one). */
  history: MemoryHistory | null;
  /** The first offset the history can hold: 1, or after the offsets a re-created group inherited. */
  historyFrom: number;
}

/** The bounds of each group's history in an `InMemoryStore`. */
export interface HistoryBounds {
  /** Messages kept per group. */
  maxCount: number;
  /** Bytes kept per group: the UTF-8 size of the messages' `data` as JSON, summed. */
  maxBytes: number;
}

/**
 * MemoryGroups: the groups of an `InMemoryStore`, the group log every attached node shares. Each operation runs to
 * completion (JavaScript does not interleave it) and hands its event to the live nodes watching the group through a
 * `MemoryDispatch` (in `v` order per node, also for changes made from inside `onEvent`). `node` is the node calling:
 * it must be attached and alive, and the store reachable.
 */
export class MemoryGroups {
  private readonly groups = new Map<GroupId, StoredGroup>();
  private readonly dispatch = new MemoryDispatch();

  constructor(
    private readonly nodes: AttachedNodes,
    private readonly historyBounds: HistoryBounds,
  ) {}

  createGroup(node: NodeId, spec: GroupSpec, first: MemberInfo | null): GroupSnapshot {
    this.nodes.check(node);
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

  watch(node: NodeId, id: GroupId): GroupSnapshot | null {
    this.nodes.check(node);
    const group = this.groups.get(id);
    if (!group) return null;
    this.nodes.get(node)?.watching.add(id);
    return toSnapshot(group);
  }

  unwatch(node: NodeId, id: GroupId): void {
    this.nodes.get(node)?.watching.delete(id);
  }

  snapshot(node: NodeId, id: GroupId): GroupSnapshot | null {
    this.nodes.check(node);
    const group = this.groups.get(id);
    return group ? toSnapshot(group) : null;
  }

  listGroups(node: NodeId): GroupId[] {
    this.nodes.check(node);
    return [...this.groups.keys()];
  }

  join(node: NodeId, id: GroupId, member: MemberInfo): JoinOutcome {
    const group = this.require(node, id);
    if (group.members.has(member.id)) return { already: true, v: group.v, offset: group.offset };
    if (group.spec.maxMembers !== null && group.members.size >= group.spec.maxMembers) throw new RoomsError('GROUP_FULL');
    group.members.set(member.id, member);
    group.everActive = true;
    const v = ++group.v;
    this.emit(id, { type: 'joined', group: id, v, member, size: group.members.size });
    return { already: false, v, offset: group.offset };
  }

  leave(node: NodeId, id: GroupId, session: SessionId, reason: LeaveReason, data: unknown): number | null {
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

  rejoin(node: NodeId, id: GroupId, member: MemberInfo): number | null {
    this.nodes.check(node);
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

  /** See `GroupLog.publish`; `json`, when given, is what the history keeps. */
  publish(node: NodeId, id: GroupId, from: SessionId | null, data: unknown, self: boolean, json?: string): { offset: number; size: number } {
    const group = this.require(node, id);
    const offset = ++group.offset;
    const v = ++group.v;
    const event: MessageEvent = { type: 'message', group: id, v, from, data, offset, self };
    group.history ??= new MemoryHistory(this.historyBounds.maxCount, this.historyBounds.maxBytes, group.historyFrom - 1);
    group.history.append(offset, from, json ?? JSON.stringify(data) ?? 'null');
    this.emit(id, event);
    return { offset, size: group.members.size };
  }

  discard(node: NodeId, id: GroupId, ifEmpty: boolean, reason: DiscardReason): boolean {
    this.nodes.check(node);
    const group = this.groups.get(id);
    if (!group || group.spec.static) return false;
    if (ifEmpty && group.members.size > 0) return false;
    this.groups.delete(id);
    this.emit(id, { type: 'discarded', group: id, v: group.v + 1, reason });
    for (const entry of this.nodes.all()) entry.watching.delete(id);
    return true;
  }

  history(node: NodeId, id: GroupId, since: number): { messages: GroupMessage[]; complete: boolean } {
    const group = this.require(node, id);
    return group.history?.since(id, since) ?? { messages: [], complete: since + 1 >= group.historyFrom };
  }

  /**
   * Re-creates groups and members a node holds when the store lost them (one `rejoined` each, `previousNode` null);
   * never overrides, and never adds a member past the group's `maxMembers` (as stored: a group created again
   * meanwhile keeps its own). Then writes back the messages the store lost (see `restore`).
   */
  reassert(node: NodeId, snapshots: ReassertedGroup[]): void {
    this.nodes.check(node);
    for (const snap of snapshots) {
      let group = this.groups.get(snap.spec.id);
      if (!group) {
        // Offsets must not go back: continue from the highest the node saw.
        group = { spec: snap.spec, members: new Map(), offset: snap.offset, v: snap.v, everActive: snap.everActive, history: null, historyFrom: snap.offset + 1 };
        this.groups.set(snap.spec.id, group);
      }
      const max = group.spec.maxMembers;
      for (const member of snap.members) {
        if (member.node !== node || group.members.has(member.id)) continue;
        if (max !== null && group.members.size >= max) continue;
        group.members.set(member.id, member);
        group.everActive = true;
        this.emit(snap.spec.id, { type: 'rejoined', group: snap.spec.id, v: ++group.v, member, previousNode: null, size: group.members.size });
      }
      this.nodes.get(node)?.watching.add(snap.spec.id);
      for (const message of snap.messages ?? []) this.restore(snap.spec.id, group, message);
    }
  }

  /**
   * Writes a message the store lost back into the history and publishes it again (see `GroupLog.reassert`): only one
   * at or below the group's offset that the history can take next (none held from its offset on).
   */
  private restore(id: GroupId, group: StoredGroup, message: RestoredMessage): void {
    const { offset, from, json, self } = message;
    if (offset < 1 || offset > group.offset) return;
    if (group.history === null) {
      group.history = new MemoryHistory(this.historyBounds.maxCount, this.historyBounds.maxBytes, offset - 1);
      group.historyFrom = Math.min(group.historyFrom, offset);
    } else if (offset !== group.history.nextOffset) {
      return;
    }
    group.history.append(offset, from, json);
    this.emit(id, { type: 'message', group: id, v: ++group.v, from, data: JSON.parse(json) as unknown, offset, self });
  }

  /**
   * Removes every member a dead node held, one `left` (reason `node-down`) each, and resolves with the groups it left
   * without any member.
   */
  removeNode(node: NodeId): GroupId[] {
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
    return orphans;
  }

  /** Forgets every group (a store restarted without persistence). */
  clear(): void {
    this.groups.clear();
  }

  private require(node: NodeId, id: GroupId): StoredGroup {
    this.nodes.check(node);
    const group = this.groups.get(id);
    if (!group) throw new RoomsError('GROUP_NOT_FOUND');
    return group;
  }

  private emit(id: GroupId, event: ReplicaEvent): void {
    const to: AttachedNode[] = [];
    for (const entry of this.nodes.all()) if (entry.alive && entry.watching.has(id)) to.push(entry);
    this.dispatch.emit(event, to);
  }
}

function toSnapshot(group: StoredGroup): GroupSnapshot {
  return { spec: group.spec, members: [...group.members.values()], offset: group.offset, v: group.v, everActive: group.everActive };
}
