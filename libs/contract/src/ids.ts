/** A group's id. Validated at the edges (see `isValidGroupId`). */
export type GroupId = string;
/** A session's id; a member's id is its session's id. */
export type SessionId = string;
/** A node's id, unique per process start. */
export type NodeId = string;
