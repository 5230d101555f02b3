import { isValidGroupId, MAX_PAYLOAD_DEPTH, RoomsError } from '@rooms-kit/contract';
import type { GroupId } from '../types.js';

/** Throws `BAD_REQUEST` unless `group` is a valid group id (`GROUP_ID_PATTERN`). */
export function requireGroupId(group: GroupId): void {
  if (!isValidGroupId(group)) throw new RoomsError('BAD_REQUEST', 'invalid group id');
}

/** A UTF-16 unit outside ASCII. Text without one (the common case) is tested natively, much faster than the loop. */
const NOT_ASCII = /[\u0080-\uffff]/;

/**
 * The number of bytes `text` takes as UTF-8, counted without encoding it (no Node `Buffer`, no allocation): what
 * `Buffer.byteLength(text)` and `new TextEncoder().encode(text).length` return. A lone surrogate counts as the
 * three bytes of the U+FFFD it is encoded as.
 */
export function utf8ByteLength(text: string): number {
  if (!NOT_ASCII.test(text)) return text.length;
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
      continue;
    }
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: two units, four bytes.
        bytes += 2;
        i++;
        continue;
      }
    }
    bytes += 2;
  }
  return bytes;
}

/**
 * Throws `BAD_REQUEST` when `value` nests arrays and objects deeper than `MAX_PAYLOAD_DEPTH` levels (or refers to
 * itself), naming `field` in the message: exactly what `exceedsPayloadDepth` of `@rooms-kit/contract` decides (a
 * property test holds them together). A scalar is accepted without a walk. Run before anything serialises the value:
 * a deep enough value makes `JSON.stringify` throw, and would break every node that handles it.
 */
export function requireShallow(value: unknown, field = 'payload'): void {
  if (typeof value === 'object' && value !== null && nestsDeeper(value, MAX_PAYLOAD_DEPTH)) {
    throw new RoomsError('BAD_REQUEST', `${field}: nested deeper than ${MAX_PAYLOAD_DEPTH} levels`);
  }
}

/**
 * Whether `node` (an array or object, depth 1) has a branch deeper than `levels`. The broadcast path runs it on every
 * message, so it allocates nothing: a recursion at most `MAX_PAYLOAD_DEPTH + 1` calls deep (it stops there, so a
 * value nested 100,000 levels costs 33 calls, and a cycle is deeper than any limit), over own enumerable keys as
 * `JSON.stringify` and `exceedsPayloadDepth` see them.
 */
function nestsDeeper(node: object, levels: number): boolean {
  if (levels === 0) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const child: unknown = node[i];
      if (typeof child === 'object' && child !== null && nestsDeeper(child, levels - 1)) return true;
    }
    return false;
  }
  for (const key in node) {
    if (!Object.prototype.hasOwnProperty.call(node, key)) continue;
    const child: unknown = (node as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null && nestsDeeper(child, levels - 1)) return true;
  }
  return false;
}

/**
 * Writes `data` as JSON and returns it (`JSON.stringify(data) ?? 'null'`, for the caller to pass on, so nothing writes
 * it twice). Throws `BAD_REQUEST` when it cannot be written as JSON (a `BigInt`), and `PAYLOAD_TOO_LARGE` when it
 * takes more than `limit` bytes of UTF-8 (no limit when undefined), naming `field` in the message. A UTF-16 unit
 * takes at most three bytes, so short payloads are accepted without counting. Call `requireShallow` first.
 */
export function checkPayload(data: unknown, limit: number | undefined, field = 'payload'): string {
  let json: string;
  try {
    json = JSON.stringify(data) ?? 'null';
  } catch {
    throw new RoomsError('BAD_REQUEST', `${field} cannot be written as JSON`);
  }
  if (limit === undefined || json.length * 3 <= limit) return json;
  const size = utf8ByteLength(json);
  if (size > limit) throw new RoomsError('PAYLOAD_TOO_LARGE', `${field} of ${size} bytes exceeds ${limit}`);
  return json;
}

/**
 * The checks of an optional payload field of a request (a member's `data`, a group's `meta`): `requireShallow`, then,
 * when present, `checkPayload` against `limit`. Absent (`undefined`) passes.
 */
export function checkPayloadField(value: unknown, limit: number | undefined, field: string): void {
  if (value === undefined) return;
  requireShallow(value, field);
  checkPayload(value, limit, field);
}
