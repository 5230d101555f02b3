import { isValidGroupId, RoomsError } from '@rooms-kit/contract';
import type { GroupId } from '../types.js';

/** Throws `BAD_REQUEST` unless `group` is a valid group id (`GROUP_ID_PATTERN`). */
export function requireGroupId(group: GroupId): void {
  if (!isValidGroupId(group)) throw new RoomsError('BAD_REQUEST', 'invalid group id');
}

/**
 * The number of bytes `text` takes as UTF-8, counted without encoding it (no Node `Buffer`, no allocation): what
 * `Buffer.byteLength(text)` and `new TextEncoder().encode(text).length` return. A lone surrogate counts as the
 * three bytes of the U+FFFD it is encoded as.
 */
export function utf8ByteLength(text: string): number {
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
 * Throws `PAYLOAD_TOO_LARGE` when `data`, written as JSON, takes more than `limit` bytes of UTF-8 (no limit when
 * undefined). A UTF-16 unit takes at most three bytes, so short payloads are accepted without counting.
 */
export function checkPayload(data: unknown, limit: number | undefined): void {
  if (limit === undefined) return;
  const json = JSON.stringify(data ?? null) ?? '';
  if (json.length * 3 <= limit) return;
  const size = utf8ByteLength(json);
  if (size > limit) throw new RoomsError('PAYLOAD_TOO_LARGE', `payload of ${size} bytes exceeds ${limit}`);
}
