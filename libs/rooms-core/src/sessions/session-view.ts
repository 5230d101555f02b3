import type { GroupId, NodeId, SessionId } from '../types.js';

/** What the admin API shows of one session (docs/protocol.md `GET /admin/sessions/:id`, less the transport). */
export interface SessionView {
  session: SessionId;
  /** The session's user; null without one (auth off). */
  user: string | null;
  /** The node that holds it. */
  node: NodeId;
  /** False while suspended (its connection dropped, its resume window running) or held by a dead node. */
  connected: boolean;
  groups: GroupId[];
}

/** What a node tells of itself (docs/protocol.md `GET /admin/nodes`). */
export interface NodeFigures {
  /** Sessions the node holds (connected or suspended), as `rooms_sessions`. */
  connections: number;
  /** Groups the node holds a replica of, in every state, as `rooms_groups`. */
  groups: number;
}

/** One node of `GET /admin/nodes`: figures null when the node could not be asked. */
export interface NodeView {
  id: NodeId;
  self: boolean;
  connections: number | null;
  groups: number | null;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Reads another node's `describe` reply: a `SessionView`, or null (also for anything malformed). */
export function parseSessionView(body: unknown): SessionView | null {
  if (typeof body !== 'object' || body === null) return null;
  const { session, user, node, connected, groups } = body as Record<string, unknown>;
  if (typeof session !== 'string' || typeof node !== 'string' || typeof connected !== 'boolean' || !isStrings(groups)) return null;
  if (user !== null && typeof user !== 'string') return null;
  return { session, user, node, connected, groups };
}

/** Reads another node's `figures` reply; null when malformed. */
export function parseNodeFigures(body: unknown): NodeFigures | null {
  if (typeof body !== 'object' || body === null) return null;
  const { connections, groups } = body as Record<string, unknown>;
  return isCount(connections) && isCount(groups) ? { connections, groups } : null;
}
