import type { SessionId } from '../types.js';

/**
 * What one kernel tells another over the cluster bus: `taken` (a session the receiver held was resumed on the
 * sender: forget it without `left`), `kick` (end a session the receiver holds as kicked; answered once it ended).
 */
export type NodeMessage = { type: 'taken'; session: SessionId } | { type: 'kick'; session: SessionId };

/** Reads a message of another kernel; null when it is none of `NodeMessage`. */
export function parseNodeMessage(body: unknown): NodeMessage | null {
  if (typeof body !== 'object' || body === null) return null;
  const { type, session } = body as { type?: unknown; session?: unknown };
  if ((type !== 'taken' && type !== 'kick') || typeof session !== 'string') return null;
  return { type, session };
}
