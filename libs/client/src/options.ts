import type { RequestFields } from '@rooms-kit/protocol/client';
import type { WebSocketConstructor } from './transports/websocket.js';

/** Options of a `RoomsClient`. */
export interface RoomsClientOptions {
  /** The gateway, e.g. `wss://rooms.example.com` (path `/v1` is added when the URL has none). */
  url: string;
  /**
   * The auth token (`?token=`), or a function returning one, called before every connection attempt (so an
   * expired token can be replaced; with a function, a close with 1008 is retried too).
   */
  token?: string | (() => string | Promise<string>);
  /** The WebSocket implementation; default `globalThis.WebSocket`. In Node without one, pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Auto-reconnect after a drop: on by default, backoff from `minDelayMs` (250) doubling up to `maxDelayMs` (10000). */
  reconnect?: { enabled?: boolean; minDelayMs?: number; maxDelayMs?: number };
  /**
   * How long a request waits for its reply, and a connection for its welcome, in ms (default 10000). Also how long
   * messages held after a gap wait, while connected, for the gap's replay to make progress.
   */
  requestTimeoutMs?: number;
  /** How many messages per group may be held while a gap is recovered (default 10000); beyond, the gap is given up. */
  maxHeldMessages?: number;
}

/** Options of `create`: every field of the `create` op. */
export type CreateOptions = RequestFields<'create'>;
/** Options of `join`: `data` (join payload) and `since` (replay the messages after this offset). */
export type JoinOptions = Omit<RequestFields<'join'>, 'group'>;
/** Options of `broadcast`: `self` (also deliver to the sender). */
export type BroadcastOptions = Omit<RequestFields<'broadcast'>, 'group' | 'data'>;
