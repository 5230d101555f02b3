import type { ProtocolError } from '@rooms-kit/protocol/client';

/** How a transport ended: a WebSocket close code and reason (1006 when it dropped without a close frame). */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * Where to connect: the gateway URL as the application gave it, and the query parameters of this attempt (`token`,
 * `session`, `resume`; undefined ones are left out). Each transport builds its own URL from them.
 */
export interface TransportTarget {
  url: string;
  params: Readonly<Record<string, string | undefined>>;
}

/**
 * What a transport reports, never from within the {@link TransportFactory} call itself: `open` once it can send,
 * `frame` for each frame the server sent (as it arrived: text or bytes), `close` exactly once when it has ended
 * (whether or not it ever opened; failures that end it are reported by `close` alone), and `error` for a frame it
 * received but cannot hand over (it stays open).
 */
export interface TransportHandlers {
  open(): void;
  frame(data: string | ArrayBuffer | Uint8Array): void;
  close(info: CloseInfo): void;
  error(error: ProtocolError): void;
}

/** One open (or opening) transport to the gateway: text frames out, a close with a code. */
export interface Transport {
  /** Sends one text frame; false (and nothing sent) when the transport is not open. */
  send(text: string): boolean;
  /**
   * Starts closing: with `code` (1000 ends the session on the server), or, without one, a close that leaves the
   * session resumable. Does nothing when closing or closed already; the end is reported by the `close` handler.
   */
  close(code?: number, reason?: string): void;
}

/**
 * Opens one transport to `target`, reporting to `handlers`. Throws when it cannot even start (e.g. a URL its
 * implementation refuses). The client keeps a list of these and tries them in order on every connection attempt,
 * moving to the next one only when a transport closed without ever opening.
 */
export type TransportFactory = (target: TransportTarget, handlers: TransportHandlers) => Transport;
