import type { GroupId, GroupOptions, MemberInfo } from '../types.js';

/** `create`'s request: docs/protocol.md's fields, in ms, plus an embedding-only tick. */
export interface CreateRequest extends GroupOptions {
  /** The id; generated when absent. */
  group?: GroupId;
  /** Whether the creator joins (default true). Requires a session. */
  join?: boolean;
  /** The creator's join payload. */
  data?: unknown;
  /** Calls `onTick` every `everyMs` while the group lives on this node (embedding API only). */
  tick?: { everyMs: number; onTick: (group: GroupId) => void };
}

/** Result of `create`. */
export interface CreateResult {
  group: GroupId;
  members: MemberInfo[];
}

/** Result of `join`. */
export interface JoinResult {
  group: GroupId;
  members: MemberInfo[];
  already: boolean;
  offset: number;
}

/** Result of `broadcast` and `announce`. */
export interface PublishResult {
  recipients: number;
  offset: number;
}
