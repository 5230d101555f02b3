import { ProtocolError, decodeServerFrame } from '@rooms-kit/protocol/client';
import type { ServerMessage } from '@rooms-kit/protocol/client';
import type { CloseInfo, Transport, TransportFactory, TransportTarget } from './transports/transport.js';

/** What a {@link Connection} reports. Called synchronously from the transport's events. */
export interface ConnectionHandlers {
  /** The messages of one frame, in order. */
  messages(messages: ServerMessage[]): void;
  /** A frame, or a message of one, that breaks the protocol (it is dropped). */
  protocolError(error: ProtocolError): void;
  /** The transport closed (once). */
  closed(info: CloseInfo): void;
}

/**
 * One transport to the gateway, speaking the protocol: decodes frames into messages, sends text frames, reports the
 * close once. Knows nothing of sessions, requests or reconnects.
 */
export class Connection {
  readonly #transport: Transport;
  #opened = false;
  #closed = false;
  #resolveDone: (info: CloseInfo) => void = () => undefined;

  /** Settles (once) when the transport has closed, with how it closed. */
  readonly done: Promise<CloseInfo> = new Promise((resolve) => {
    this.#resolveDone = resolve;
  });

  /** Opens a transport with `open` to `target`. Throws what the factory throws (e.g. a SyntaxError for a bad URL). */
  constructor(open: TransportFactory, target: TransportTarget, handlers: ConnectionHandlers) {
    this.#transport = open(target, {
      open: () => {
        this.#opened = true;
      },
      frame: (data) => {
        let messages: ServerMessage[];
        try {
          messages = decodeServerFrame(data, handlers.protocolError);
        } catch (error) {
          handlers.protocolError(error instanceof ProtocolError ? error : new ProtocolError('bad frame', { cause: error }));
          return;
        }
        handlers.messages(messages);
      },
      close: (info) => {
        if (this.#closed) return;
        this.#closed = true;
        this.#resolveDone(info);
        handlers.closed(info);
      },
      error: handlers.protocolError,
    });
  }

  /** True once the transport has opened, even if it has closed since: false means the gateway was never reached. */
  get opened(): boolean {
    return this.#opened;
  }

  /** Sends one text frame; false (and nothing sent) when the transport is not open. */
  send(text: string): boolean {
    return this.#transport.send(text);
  }

  /**
   * Starts closing: with `code` (1000 ends the session on the server), or, without one, a close that leaves the
   * session resumable. Does nothing when closing or closed already; the close is reported through `handlers.closed`.
   */
  close(code?: number, reason?: string): void {
    this.#transport.close(code, reason);
  }
}
