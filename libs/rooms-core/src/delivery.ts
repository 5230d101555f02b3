import type { GroupId, LeaveReason, MemberInfo, SessionId } from './types.js';

/** An event for group members, in the wire shape of docs/protocol.md's event table. */
export type DeliveryEvent =
  | { ev: 'joined'; group: GroupId; member: MemberInfo; data?: unknown }
  | { ev: 'left'; group: GroupId; member: MemberInfo; reason: LeaveReason; data?: unknown }
  | { ev: 'message'; group: GroupId; from: SessionId | null; data: unknown; offset: number }
  | { ev: 'discarded'; group: GroupId; reason: 'admin' }
  | { ev: 'rejoined'; group: GroupId; member: MemberInfo; data?: unknown };

/**
 * The delivery port: how the kernel hands events to the connections (or the embedding program) of this node.
 * `deliver` is called once per event per node, with the group's local member set, never once per member: the
 * implementation encodes the event once and writes it to each recipient (the fan-out hot path).
 */
export interface DeliveryPort {
  /**
   * Delivers `event` to every session of `to` except `except`. Called synchronously from the kernel; it must not
   * throw and must not keep `to` (the set is live and changes after the call). `intervalMs` is the group's outbound
   * buffering (0 = flush with the next event-loop turn).
   */
  deliver(event: DeliveryEvent, to: ReadonlySet<SessionId>, except: SessionId | null, intervalMs: number): void;
}
