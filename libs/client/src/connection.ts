import { ProtocolError, decodeServerFrame } from '@rooms-kit/protocol';
import type { ServerMessage } from '@rooms-kit/protocol';
import { ReadyState } from './websocket.js';
import type { WebSocketConstructor, WebSocketLike } from './websocket.js';

/** How a connection ended: the close code and reason as the WebSocket reported them (1006 for a drop). */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** What a {@link Connection} reports. Called synchronously from the socket's events. */
export interface ConnectionHandlers {
  /** The messages of one frame, in order. */
  messages(messages: ServerMessage[]): void;
  /** A frame that breaks the protocol (it is dropped). */
  protocolError(error: ProtocolError): void;
  /** The socket closed (once). */
  closed(info: CloseInfo): void;
}

/**
 * One WebSocket: decodes frames into messages, sends text frames, reports the close once. Knows nothing of
 * sessions, requests or reconnects.
 */
export class Connection {
  readonly #socket: WebSocketLike;
  #closed = false;
  #resolveDone: (info: CloseInfo) => void = () => undefined;

  /** Settles (once) when the socket has closed, with how it closed. */
  readonly done: Promise<CloseInfo> = new Promise((resolve) => {
    this.#resolveDone = resolve;
  });

  /** Opens a socket to `url`. Throws what the constructor throws (e.g. a SyntaxError for a bad URL). */
  constructor(WebSocket: WebSocketConstructor, url: string, handlers: ConnectionHandlers) {
    const socket = new WebSocket(url);
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event: { data: unknown }) => {
      const data = event.data;
      if (typeof data !== 'string' && !(data instanceof ArrayBuffer) && !(data instanceof Uint8Array)) {
        handlers.protocolError(new ProtocolError('frame of an unexpected type'));
        return;
      }
      let messages: ServerMessage[];
      try {
        messages = decodeServerFrame(data, handlers.protocolError);
      } catch (error) {
        handlers.protocolError(error instanceof ProtocolError ? error : new ProtocolError('bad frame', { cause: error }));
        return;
      }
      handlers.messages(messages);
    };
    socket.onclose = (event: { code?: number; reason?: string }) => {
      if (this.#closed) return;
      this.#closed = true;
      const info = { code: event.code ?? 1006, reason: event.reason ?? '' };
      this.#resolveDone(info);
      handlers.closed(info);
    };
    // Every error is followed by a close event, which is what matters here.
    socket.onerror = () => undefined;
  }

  /** True once the socket is open (sends are possible). */
  get isOpen(): boolean {
    return this.#socket.readyState === ReadyState.OPEN;
  }

  /** Sends one text frame; false (and nothing sent) when the socket is not open. */
  send(text: string): boolean {
    if (!this.isOpen) return false;
    this.#socket.send(text);
    return true;
  }

  /**
   * Starts closing the socket: with `code` (1000 ends the session on the server), or, without one, a close that
   * leaves the session resumable. Does nothing when it is closing or closed already; the close is reported through
   * `handlers.closed`.
   */
  close(code?: number, reason?: string): void {
    const state = this.#socket.readyState;
    if (state === ReadyState.CLOSING || state === ReadyState.CLOSED) return;
    if (code === undefined) this.#socket.close();
    else this.#socket.close(code, reason);
  }
}
