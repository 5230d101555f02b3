import type { ErrorCode, WireError } from '@rooms-kit/protocol/client';

/**
 * Codes of failures the client itself detects: the connection dropped while the request was pending, or the client
 * is between connections (`DISCONNECTED`, temporary); no reply within `requestTimeoutMs` (`TIMEOUT`, temporary);
 * `close()` was called (`CLOSED`); `connect()` was never called or gave up (`NOT_CONNECTED`); `connect()` could
 * not open a session (`CONNECT_FAILED`, temporary); the server sent a frame that breaks the protocol (`PROTOCOL`);
 * messages of a group were lost in flight and could not be recovered (`GAP`, an `error` event carrying `gap`).
 */
export type ClientErrorCode = 'DISCONNECTED' | 'TIMEOUT' | 'CLOSED' | 'NOT_CONNECTED' | 'CONNECT_FAILED' | 'PROTOCOL' | 'GAP';

/** A run of message offsets, `from` to `to` inclusive. */
export interface LostRange {
  from: number;
  to: number;
}

/** What a `GAP` error says was lost: the group and the offsets that will never be delivered. */
export interface GapInfo {
  group: string;
  lost: LostRange[];
}

/**
 * What every rejected promise of the client, and the `error` event, carry: a server error code of docs/protocol.md (with
 * the server's message) or a {@link ClientErrorCode}, and whether retrying later may succeed (`temporary`).
 */
export class RoomsClientError extends Error {
  override readonly name = 'RoomsClientError';
  readonly code: ErrorCode | ClientErrorCode;
  readonly temporary: boolean;
  /** Set on `GAP` errors only: which messages of which group were lost. */
  readonly gap?: GapInfo;

  constructor(
    code: ErrorCode | ClientErrorCode,
    message: string,
    temporary: boolean,
    options?: { cause?: unknown; gap?: GapInfo },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.temporary = temporary;
    if (options?.gap !== undefined) this.gap = options.gap;
  }

  /** The error of a server reply or `error` event, with the server's code, message and `temporary`. */
  static fromWire(error: WireError): RoomsClientError {
    return new RoomsClientError(error.code, error.message, error.temporary);
  }
}

/** The error of everything asked of a client after `close()`: `CLOSED`, not temporary. */
export function closedError(): RoomsClientError {
  return new RoomsClientError('CLOSED', 'the client is closed', false);
}
