import type { WireError } from '@rooms-kit/contract';
import type { Result, ServerEvent } from '../types.js';

/**
 * A success reply: `{"ref":n,"ok":true,...result}`. `result` must be a plain object without `ref` or `ok` keys
 * (every op's result is); it is serialised once and spliced in, with no intermediate object.
 */
export function encodeReply(ref: number, result: Result): string {
  const body = JSON.stringify(result);
  return body.length <= 2 ? `{"ref":${ref},"ok":true}` : `{"ref":${ref},"ok":true,${body.slice(1)}`;
}

/**
 * An error reply: `{"ref":n|null,"ok":false,"error":{"code","message","temporary"}}`. Only those three fields are
 * written, never a `RoomsError`'s cause or stack.
 */
export function encodeErrorReply(ref: number | null, error: WireError): string {
  return JSON.stringify({
    ref,
    ok: false,
    error: { code: error.code, message: error.message, temporary: error.temporary },
  });
}

/** Any server event as one JSON frame (`{"ev":...}`). For `message` events on the hot path prefer {@link encodeMessageEvent}. */
export function encodeEvent(event: ServerEvent): string {
  return JSON.stringify(event);
}

/**
 * A `message` event: `{"ev":"message","group":g,"from":id|null,"data":d,"offset":n}`, built as a template of
 * separately serialised parts (no event object is allocated; measured no slower than JSON.stringify of the whole).
 * Encode once per broadcast, then write the same string to every recipient. `data` undefined is written as null.
 */
export function encodeMessageEvent(group: string, from: string | null, data: unknown, offset: number): string {
  return encodeMessageEventJson(group, from, JSON.stringify(data) ?? 'null', offset);
}

/**
 * As {@link encodeMessageEvent}, with `dataJson` already JSON text (e.g. as carried between nodes), spliced in
 * verbatim without parsing. The caller guarantees it is valid JSON.
 */
export function encodeMessageEventJson(group: string, from: string | null, dataJson: string, offset: number): string {
  const sender = from === null ? 'null' : JSON.stringify(from);
  return `{"ev":"message","group":${JSON.stringify(group)},"from":${sender},"data":${dataJson},"offset":${offset}}`;
}

/**
 * Several already-encoded messages as one array frame `[m1,m2,…]`, by joining their text: nothing is parsed or
 * re-serialised. Each element must be one encoded object (as the other encoders return).
 */
export function encodeBatch(frames: readonly string[]): string {
  return `[${frames.join(',')}]`;
}
