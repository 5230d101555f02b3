/** Path of the WebSocket endpoint of protocol v1: clients connect to `ws://HOST:PORT/v1`. */
export const PROTOCOL_PATH = '/v1';

/** Every request op of protocol v1, in docs/protocol.md's order. A request whose `op` is not here is `UNKNOWN_OP`. */
export const OPS = ['create', 'join', 'leave', 'broadcast', 'members', 'groups', 'group', 'ping'] as const;

/** A request op of protocol v1. */
export type Op = (typeof OPS)[number];

/** Every server event name (`ev`) of protocol v1. */
export const EVENT_NAMES = ['welcome', 'joined', 'left', 'message', 'discarded', 'rejoined', 'error'] as const;

/** A server event name of protocol v1. */
export type EventName = (typeof EVENT_NAMES)[number];

export { DISCARD_REASONS, GROUP_STATES, LEAVE_REASONS } from '@rooms-kit/contract';
export type { DiscardReason, GroupState, LeaveReason } from '@rooms-kit/contract';
export { GROUP_ID_PATTERN, MAX_GROUP_ID_LENGTH, MAX_INTERVAL_MS, MAX_TTL_SECONDS, isValidGroupId } from '@rooms-kit/contract';
