import type { SessionId } from '../types.js';

/**
 * What one kernel tells or asks another over the cluster bus: `taken` (a session the receiver held was resumed on the
 * sender: forget it without `left`), `kick` (end a session the receiver holds as kicked; answered once it ended),
 * `describe` (answered with the receiver's `SessionView` of a session it holds, or null) and `figures` (answered with
 * the receiver's `NodeFigures`).
 */
export type NodeMessage =
  | { type: 'taken'; session: SessionId }
  | { type: 'kick'; session: SessionId }
  | { type: 'describe'; session: SessionId }
  | { type: 'figures' };

const SESSION_MESSAGES: ReadonlySet<unknown> = new Set(['taken', 'kick', 'describe']);

/** Reads a message of another kernel; null when it is none of `NodeMessage`. */
export function parseNodeMessage(body: unknown): NodeMessage | null {
  if (typeof body !== 'object' || body === null) return null;
  const { type, session } = body as { type?: unknown; session?: unknown };
  if (type === 'figures') return { type };
  if (!SESSION_MESSAGES.has(type) || typeof session !== 'string') return null;
  return { type: type as 'taken' | 'kick' | 'describe', session };
}
