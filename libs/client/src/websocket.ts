/**
 * The part of the WebSocket API the client uses, met by the browser's `WebSocket` and by the `ws` package's
 * (pass `WebSocket` from `ws` in Node versions without a global one). Handler parameters are typed `never` so that
 * either implementation's own event types fit; the client reads only `data`, `code` and `reason`.
 */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `new WebSocket(url)`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `readyState` values (the same in every implementation). */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;
