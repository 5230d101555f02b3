import { RoomsError } from '@rooms-kit/contract';
import type { GroupLog, GroupSnapshot, JoinOutcome } from '../port/group-log.js';
import type { DiscardReason, GroupId, GroupMessage, GroupSpec, LeaveReason, MemberInfo, SessionId } from '../types.js';
import type { StoreSettlement } from './node-lifecycle.js';

/** The refusal of a call made while the store is not settled (`UNAVAILABLE`, temporary). */
export function unsettledStore(): Promise<never> {
  return Promise.reject(new RoomsError('UNAVAILABLE', 'the shared store is being restored'));
}

/**
 * GatedGroupLog: the group log as the parts that act for clients (group operations, resumes) call it. While the
 * store is not settled (unreachable, or back but without this node's groups and members re-asserted yet, see
 * `NodeLifecycleMachine`), every call is refused at once with `UNAVAILABLE` (temporary), so that a client never gets
 * `GROUP_NOT_FOUND` for a live group from a store restarted empty, nor a message an offset another one had. The
 * node's own upkeep (re-assert, resync, refused leaves, watches) uses the group log itself. A passing call costs
 * one field read and a call: no allocation, no extra promise (the broadcast path goes through `publish`).
 */
export class GatedGroupLog implements GroupLog {
  constructor(
    private readonly inner: GroupLog,
    private readonly store: Pick<StoreSettlement, 'storeSettled'>,
  ) {}

  createGroup(spec: GroupSpec, first: MemberInfo | null): Promise<GroupSnapshot> {
    return this.store.storeSettled ? this.inner.createGroup(spec, first) : unsettledStore();
  }

  watch(group: GroupId): Promise<GroupSnapshot | null> {
    return this.store.storeSettled ? this.inner.watch(group) : unsettledStore();
  }

  unwatch(group: GroupId): Promise<void> {
    return this.inner.unwatch(group);
  }

  snapshot(group: GroupId): Promise<GroupSnapshot | null> {
    return this.store.storeSettled ? this.inner.snapshot(group) : unsettledStore();
  }

  listGroups(): Promise<GroupId[]> {
    return this.store.storeSettled ? this.inner.listGroups() : unsettledStore();
  }

  join(group: GroupId, member: MemberInfo): Promise<JoinOutcome> {
    return this.store.storeSettled ? this.inner.join(group, member) : unsettledStore();
  }

  leave(group: GroupId, member: SessionId, reason: LeaveReason, data?: unknown): Promise<number | null> {
    return this.store.storeSettled ? this.inner.leave(group, member, reason, data) : unsettledStore();
  }

  rejoin(group: GroupId, member: MemberInfo): Promise<number | null> {
    return this.store.storeSettled ? this.inner.rejoin(group, member) : unsettledStore();
  }

  publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean, json?: string): Promise<{ offset: number; size: number }> {
    return this.store.storeSettled ? this.inner.publish(group, from, data, self, json) : unsettledStore();
  }

  discard(group: GroupId, options: { ifEmpty: boolean; reason: DiscardReason }): Promise<boolean> {
    return this.store.storeSettled ? this.inner.discard(group, options) : unsettledStore();
  }

  history(group: GroupId, since: number): Promise<{ messages: GroupMessage[]; complete: boolean }> {
    return this.store.storeSettled ? this.inner.history(group, since) : unsettledStore();
  }

  reassert(groups: GroupSnapshot[]): Promise<void> {
    return this.inner.reassert(groups);
  }
}
