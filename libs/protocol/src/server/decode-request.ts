import { RoomsError } from '@rooms-kit/contract';
import { ValueErrorType } from '@sinclair/typebox/errors';
import type { ValueError } from '@sinclair/typebox/errors';
import { fieldCheckers } from './schemas.js';
import type { FieldCheck } from './schemas.js';
import { frameText } from '../text.js';
import type { RawFrame } from '../text.js';
import type { Request } from '../types.js';

/**
 * The outcome of {@link decodeRequest}: a valid request, or the error to reply with. `ref` is the request's `ref`
 * whenever it could be read as a safe integer (so the error reply can carry it), otherwise null.
 */
export type DecodeResult = { ok: true; request: Request } | { ok: false; ref: number | null; error: RoomsError };

/** Longest slice of an unknown op echoed back in the error message. */
const MAX_ECHOED_OP = 64;

/**
 * Parses and validates one client frame. The JSON is parsed once and the parsed object itself is returned as the
 * request (payloads are never copied or re-serialised; unknown extra fields stay on it, untyped). Validation is
 * one compiled checker per op, chosen by `op`.
 *
 * Errors: invalid JSON, a non-object or an array: `BAD_REQUEST` with ref null; `ref` present but not a safe
 * integer: `BAD_REQUEST` with ref null; `op` missing or not a string: `BAD_REQUEST`; `op` not in the table:
 * `UNKNOWN_OP`; a known op with a missing or ill-typed field: `BAD_REQUEST` whose message starts with the field
 * name (`"group: expected string"`, `"data: required"`); `create` with `join:false` but not `allowEmpty:true`:
 * `BAD_REQUEST` (the group would be empty at once).
 */
export function decodeRequest(raw: RawFrame): DecodeResult {
  let value: unknown;
  try {
    value = JSON.parse(frameText(raw));
  } catch {
    return badRequest(null, 'invalid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return badRequest(null, 'expected a JSON object');
  }
  const message = value as Record<string, unknown>;

  let ref: number | null = null;
  const rawRef = message.ref;
  if (rawRef !== undefined) {
    if (typeof rawRef !== 'number' || !Number.isSafeInteger(rawRef)) return badRequest(null, 'ref: expected integer');
    ref = rawRef;
  }

  const op = message.op;
  if (typeof op !== 'string') return badRequest(ref, op === undefined ? 'op: required' : 'op: expected string');
  const check = fieldCheckers().get(op);
  if (check === undefined) {
    const shown = op.length > MAX_ECHOED_OP ? `${op.slice(0, MAX_ECHOED_OP)}…` : op;
    return { ok: false, ref, error: new RoomsError('UNKNOWN_OP', `unknown op ${JSON.stringify(shown)}`) };
  }
  if (!check.Check(message)) return badRequest(ref, describeFirstError(check, message));
  if (op === 'create' && message.join === false && message.allowEmpty !== true) {
    return badRequest(ref, 'join: false needs allowEmpty: true (the group would be empty at once)');
  }
  return { ok: true, request: message as unknown as Request };
}

function badRequest(ref: number | null, message: string): DecodeResult {
  return { ok: false, ref, error: new RoomsError('BAD_REQUEST', message) };
}

/** Errors meaning "the field has the wrong JSON type" (as opposed to breaking a constraint). */
const TYPE_ERRORS: ReadonlySet<ValueErrorType> = new Set([
  ValueErrorType.String,
  ValueErrorType.Number,
  ValueErrorType.Integer,
  ValueErrorType.Boolean,
  ValueErrorType.Object,
]);

// Only runs on the failure path: walks the value again to find the first broken rule.
function describeFirstError(check: FieldCheck, value: unknown): string {
  const error: ValueError | undefined = check.Errors(value).First();
  if (error === undefined) return 'invalid request';
  const field = error.path.replace(/^\//, '').replaceAll('/', '.');
  if (error.value === undefined) return `${field}: required`;
  const schema = error.schema as { type?: unknown; errorMessage?: unknown };
  if (TYPE_ERRORS.has(error.type) && typeof schema.type === 'string') {
    // An Integer error for a number that is not whole is a constraint, said better by errorMessage when present.
    const wrongType = error.type !== ValueErrorType.Integer || typeof error.value !== 'number';
    if (wrongType) return `${field}: expected ${schema.type}`;
  }
  if (typeof schema.errorMessage === 'string') return `${field}: ${schema.errorMessage}`;
  return `${field}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
}
