import type { NodeId } from '../types.js';

/** How long `ClusterBus.send` waits for a reply when the caller gives no `timeoutMs`. */
export const DEFAULT_SEND_TIMEOUT_MS = 5000;

/** Options of `ClusterBus.send`. */
export interface SendOptions {
  /** Longest wait for the reply, in ms. Default `DEFAULT_SEND_TIMEOUT_MS`. */
  timeoutMs?: number;
}

/**
 * The cluster bus: request/reply messages from one node to another (tell the holder of a session it was taken or
 * kicked, forward a request to the node that holds a connection, ask a node for its figures). Bodies and replies are
 * JSON values: what cannot be written as JSON does not arrive.
 *
 * Guarantees every implementation keeps (checked by `backendContract` against each):
 * - Delivery: `send` calls the target node's `BackendHandler.onNodeMessage(from, body)` once and resolves with what it
 *   returned (or what its promise resolved with).
 * - Refusal: `send` to a node that is unknown, closed or found dead rejects promptly with `RoomsError('UNAVAILABLE')`
 *   (also while the backend is unreachable), without waiting for the timeout.
 * - Bounded wait: when no reply comes within `timeoutMs` (the target stalled, died meanwhile, or its handler never
 *   settles), `send` rejects with `RoomsError('UNAVAILABLE')`; a late reply is ignored.
 * - Errors: a handler that throws (or rejects with) a `RoomsError` makes `send` reject with a `RoomsError` of the same
 *   code and message; any other failure of the handler arrives as `INTERNAL`.
 * - Order: the messages one node sends to another are handed to the target's handler in the order they were sent (an
 *   asynchronous handler may finish them in another order).
 */
export interface ClusterBus {
  /** Ids of the nodes currently alive (as this node last saw them), this one first. */
  liveNodes(): NodeId[];
  /** Sends `body` to `node` and resolves with its handler's reply (see the guarantees above). */
  send(node: NodeId, body: unknown, options?: SendOptions): Promise<unknown>;
}
