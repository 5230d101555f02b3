import type { ErrorCode, WireError } from '@rooms/protocol';

/**
 * Codes of failures the client itself detects: the connection dropped while the request was pending, or the client
 * is between connections (`DISCONNECTED`, temporary); no reply within `requestTimeoutMs` (`TIMEOUT`, temporary);
 * `close()` was called (`CLOSED`); `connect()` was never called or gave up (`NOT_CONNECTED`); `connect()` could
 * not open a session (`CONNECT_FAILED`, temporary); the server sent a frame that breaks the protocol (`PROTOCOL`).
 */
export type ClientErrorCode = 'DISCONNECTED' | 'TIMEOUT' | 'CLOSED' | 'NOT_CONNECTED' | 'CONNECT_FAILED' | 'PROTOCOL';

/**
 * What every rejected promise of the client, and the `error` event, carry: a server error code of PROTOCOL.md (with
 * the server's message) or a {@link ClientErrorCode}, and whether retrying later may succeed (`temporary`).
 */
export class RoomsClientError extends Error {
  override readonly name = 'RoomsClientError';
  readonly code: ErrorCode | ClientErrorCode;
  readonly temporary: boolean;

  constructor(code: ErrorCode | ClientErrorCode, message: string, temporary: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.temporary = temporary;
  }

  /** The error of a server reply or `error` event, with the server's code, message and `temporary`. */
  static fromWire(error: WireError): RoomsClientError {
    return new RoomsClientError(error.code, error.message, error.temporary);
  }
}
