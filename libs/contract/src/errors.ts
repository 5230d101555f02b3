/**
 * The error catalog of the wire protocol (docs/protocol.md, "Error codes"): every error a client (or an embedding program) can see carries one of these
 * codes, a human message and whether retrying later may succeed (`temporary`).
 */
export const ERROR_CATALOG = {
  BAD_REQUEST: { message: 'Malformed request', temporary: false },
  UNKNOWN_OP: { message: 'Unknown op', temporary: false },
  GROUP_NOT_FOUND: { message: 'No such group', temporary: false },
  GROUP_EXISTS: { message: 'A group with this id exists', temporary: false },
  NOT_MEMBER: { message: 'Not a member of this group', temporary: false },
  GROUP_FULL: { message: 'The group is full', temporary: false },
  FORBIDDEN: { message: 'Forbidden', temporary: false },
  RATE_LIMITED: { message: 'Too many requests', temporary: true },
  PAYLOAD_TOO_LARGE: { message: 'Payload too large', temporary: false },
  NODE_DRAINING: { message: 'This node is draining and takes no new groups', temporary: true },
  UNAVAILABLE: { message: 'The shared store cannot be reached', temporary: true },
  SESSION_NOT_FOUND: { message: 'No such session', temporary: false },
  INTERNAL: { message: 'Internal error', temporary: false },
} as const satisfies Record<string, { message: string; temporary: boolean }>;

/** One of the catalog's codes. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Every code of the catalog, for validation and exhaustive tests. */
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

/** The shape of an error on the wire: `{"code","message","temporary"}`. */
export interface WireError {
  code: ErrorCode;
  message: string;
  temporary: boolean;
}

/**
 * A coded error of the catalog. Thrown (or rejected) by every kernel operation that fails for a reason a client
 * may see; `cause` keeps the underlying error (a Redis failure, a hook's own exception) for logs only.
 */
export class RoomsError extends Error {
  override readonly name = 'RoomsError';
  readonly code: ErrorCode;
  readonly temporary: boolean;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CATALOG[code].message, options);
    this.code = code;
    this.temporary = ERROR_CATALOG[code].temporary;
  }

  /** The wire form, without the cause. */
  toWire(): WireError {
    return { code: this.code, message: this.message, temporary: this.temporary };
  }
}

/** True when `value` is a code of the catalog. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOG, value);
}

/**
 * Turns anything thrown into a catalog error: a `RoomsError` stays as it is, anything else becomes `INTERNAL`
 * with the original as `cause`.
 */
export function toRoomsError(error: unknown): RoomsError {
  if (error instanceof RoomsError) return error;
  return new RoomsError('INTERNAL', undefined, { cause: error });
}
