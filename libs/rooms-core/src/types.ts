import type { GroupId, GroupState, NodeId, SessionId } from '@rooms-kit/contract';

export type { GroupId, GroupState, LeaveReason, NodeId, SessionId } from '@rooms-kit/contract';

/** A group member as every node sees it. `data` is the payload it joined with. */
export interface MemberInfo {
  id: SessionId;
  node: NodeId;
  user?: string;
  data?: unknown;
}

/** Why a group was discarded: it stayed empty past its grace or ttl, or the admin / embedding program said so. */
export type DiscardReason = 'empty' | 'admin';

/** How a group is configured at create time. Everything but `id` is optional on the way in. */
export interface GroupOptions {
  /** May exist with no member (otherwise `create` must also join). Default false. */
  allowEmpty?: boolean;
  /** Milliseconds an empty group is kept (in `created` or `empty-grace`); default the node's `emptyGraceMs`. */
  ttlMs?: number;
  /** At most this many members; default unlimited. */
  maxMembers?: number;
  /** Milliseconds of outbound buffering for this group's events; 0 = none. Interpreted by the delivery side. */
  intervalMs?: number;
  /** Public metadata, a JSON object. */
  meta?: Record<string, unknown>;
}

/** The stored description of a group, the same on every node. */
export interface GroupSpec {
  id: GroupId;
  allowEmpty: boolean;
  ttlMs: number | null;
  maxMembers: number | null;
  intervalMs: number;
  meta: Record<string, unknown>;
  static: boolean;
}

/** What the `group` op answers. */
export interface GroupInfo {
  group: GroupId;
  state: GroupState;
  size: number;
  nodes: NodeId[];
  meta: Record<string, unknown>;
  static: boolean;
}

/** A message of a group's history, with its per-group offset. */
export interface GroupMessage {
  group: GroupId;
  from: SessionId | null;
  data: unknown;
  offset: number;
  /**
   * Present (true) when the sender asked for its own copy (`self`), where the backend keeps it (Redis does): a
   * resync that delivers missed messages then delivers them to the sender too. Left out when false or unknown.
   */
  self?: true;
}
