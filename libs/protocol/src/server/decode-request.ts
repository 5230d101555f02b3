import { MAX_PAYLOAD_DEPTH, RoomsError } from '@rooms-kit/contract';
import { ValueErrorType } from '@sinclair/typebox/errors';
import type { ValueError } from '@sinclair/typebox/errors';
import { firstPastDepth, scanTopLevel } from './json-scan.js';
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

/** Longest slice of an unknown op (or of a field's name) echoed back in the error message. */
const MAX_ECHOED_OP = 64;

/** A frame's own object is one level: its fields may nest {@link MAX_PAYLOAD_DEPTH} more. */
const MAX_FRAME_DEPTH = MAX_PAYLOAD_DEPTH + 1;

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
 *
 * Depth: a field (`data`, `meta`, any other) nesting arrays and objects deeper than `MAX_PAYLOAD_DEPTH` (32) levels
 * is `BAD_REQUEST` `"<field>: nested deeper than 32 levels"`, with the frame's `ref` when it is a safe integer. That
 * is decided by one linear scan of the text before anything is parsed (a frame nested 100,000 levels costs that
 * scan, no parse), so an accepted request holds no value deeper than the bound. (The kernel checks `data` once more,
 * for its embedding API, with a walk that stops one level past the bound.)
 */
export function decodeRequest(raw: RawFrame): DecodeResult {
  const text = frameText(raw);
  const tooDeep = firstPastDepth(text, MAX_FRAME_DEPTH);
  if (tooDeep >= 0) return refuseDeep(text, tooDeep);
  let value: unknown;
  try {
    value = JSON.parse(text);
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

/**
 * The `ref` of a frame that is refused without being decoded (over the rate limit): its first top-level `ref` when
 * that is a safe integer, else null, read by one scan of the text that stops there (no parse, no value built).
 * For a frame decodeRequest accepts, this is the request's `ref` (or null without one), unless the frame repeats
 * `ref` (`JSON.parse` keeps the last).
 */
export function peekRef(raw: RawFrame): number | null {
  return scanTopLevel(frameText(raw), -1).ref;
}

// The refusal of a frame nesting deeper than the bound at `at`, read from its text (it is never parsed).
function refuseDeep(text: string, at: number): DecodeResult {
  if (text.trimStart().charCodeAt(0) !== 0x7b) return badRequest(null, 'expected a JSON object');
  const { ref, field } = scanTopLevel(text, at);
  const named = field === null ? 'a field' : showField(field);
  return badRequest(ref, `${named}: nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
}

/** A field name as an error message shows it: plain when it is a plain word, else quoted and cut. */
function showField(field: string): string {
  if (/^[\w$-]{1,64}$/.test(field)) return field;
  return JSON.stringify(field.length > MAX_ECHOED_OP ? `${field.slice(0, MAX_ECHOED_OP)}…` : field);
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
