/**
 * A frame from the server that does not follow the protocol (not JSON, not an object, a known event with missing or
 * ill-typed fields). `cause` holds the underlying error when there is one (e.g. the JSON parse error).
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
