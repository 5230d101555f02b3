/** Path of the WebSocket endpoint of protocol v1: clients connect to `ws://HOST:PORT/v1`. */
export const PROTOCOL_PATH = '/v1';

/** Every request op of protocol v1, in PROTOCOL.md's order. A request whose `op` is not here is `UNKNOWN_OP`. */
export const OPS = ['create', 'join', 'leave', 'broadcast', 'members', 'groups', 'group', 'ping'] as const;

/** A request op of protocol v1. */
export type Op = (typeof OPS)[number];

/** Every server event name (`ev`) of protocol v1. */
export const EVENT_NAMES = ['welcome', 'joined', 'left', 'message', 'discarded', 'rejoined', 'error'] as const;

/** A server event name of protocol v1. */
export type EventName = (typeof EVENT_NAMES)[number];

/**
 * Why a member left a group, as carried by the `left` event: it asked (`leave`), its connection ended without a
 * resume (`disconnect`), its node died (`node-down`), or the admin API kicked it (`kicked`).
 */
export const LEAVE_REASONS = ['leave', 'disconnect', 'node-down', 'kicked'] as const;

/** One of {@link LEAVE_REASONS}. */
export type LeaveReason = (typeof LEAVE_REASONS)[number];

/** Why a group was discarded while it had members, as carried by the `discarded` event (only `admin` in v1). */
export const DISCARD_REASONS = ['admin'] as const;

/** One of {@link DISCARD_REASONS}. */
export type DiscardReason = (typeof DISCARD_REASONS)[number];

/**
 * The states a live group reports in the `group` op's result. `discarded` is final and never reported: a discarded
 * group is `GROUP_NOT_FOUND`.
 */
export const GROUP_STATES = ['created', 'active', 'empty-grace'] as const;

/** One of {@link GROUP_STATES}. */
export type GroupState = (typeof GROUP_STATES)[number];

// Group id rules live in the kernel (the embedding API validates ids too); the wire re-exports them.
export { GROUP_ID_PATTERN, MAX_GROUP_ID_LENGTH, isValidGroupId } from '@rooms/core';

/** Largest `interval` (ms of outbound buffering) a `create` may ask for. */
export const MAX_INTERVAL_MS = 60_000;

/**
 * Largest `ttl` (seconds) a `create` may ask for: the longest delay a JavaScript timer can hold (2^31 - 1 ms, about
 * 24.8 days). A longer timer would fire at once, so longer values are refused rather than silently misbehaving.
 */
export const MAX_TTL_SECONDS = 2_147_483;
