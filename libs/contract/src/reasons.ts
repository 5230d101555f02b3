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
