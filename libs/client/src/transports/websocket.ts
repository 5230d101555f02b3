import { ProtocolError } from '@rooms-kit/protocol/client';
import { connectionUrl } from '../url.js';
import type { TransportFactory } from './transport.js';

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

/**
 * The WebSocket transport: `new WebSocket(url)` on the gateway URL with `/v1` as path (see `connectionUrl`) and the
 * attempt's parameters in the query. Frames arrive as text or `ArrayBuffer`; one of any other type is reported as
 * an `error` and dropped. The constructor's exceptions (e.g. a SyntaxError for a bad URL) propagate.
 */
export function webSocketTransport(WebSocket: WebSocketConstructor): TransportFactory {
  return (target, handlers) => {
    const socket = new WebSocket(connectionUrl(target.url, target.params));
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => handlers.open();
    socket.onmessage = (event: { data: unknown }) => {
      const data = event.data;
      if (typeof data === 'string' || data instanceof ArrayBuffer || data instanceof Uint8Array) handlers.frame(data);
      else handlers.error(new ProtocolError('frame of an unexpected type'));
    };
    socket.onclose = (event: { code?: number; reason?: string }) => {
      handlers.close({ code: event.code ?? 1006, reason: event.reason ?? '' });
    };
    // Every error is followed by a close event, which is what matters here.
    socket.onerror = () => undefined;
    return {
      send(text) {
        if (socket.readyState !== ReadyState.OPEN) return false;
        socket.send(text);
        return true;
      },
      close(code, reason) {
        const state = socket.readyState;
        if (state === ReadyState.CLOSING || state === ReadyState.CLOSED) return;
        if (code === undefined) socket.close();
        else socket.close(code, reason);
      },
    };
  };
}
