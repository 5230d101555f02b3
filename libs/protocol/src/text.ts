/** A frame as the WebSocket libraries hand it over: text, one buffer, or `ws`'s fragment list. */
export type RawFrame = string | Uint8Array | ArrayBuffer | readonly Uint8Array[];

const utf8 = new TextDecoder();

/**
 * The UTF-8 text of a frame. Works in browsers too: a Node `Buffer` is a `Uint8Array`, and no Node-only API is
 * used. Invalid UTF-8 becomes U+FFFD (the JSON parse that follows decides whether the frame is acceptable).
 */
export function frameText(raw: RawFrame): string {
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array) return utf8.decode(raw);
  if (raw instanceof ArrayBuffer) return utf8.decode(new Uint8Array(raw));
  if (raw.length === 1) return utf8.decode(raw[0]);
  let size = 0;
  for (const part of raw) size += part.byteLength;
  const whole = new Uint8Array(size);
  let at = 0;
  for (const part of raw) {
    whole.set(part, at);
    at += part.byteLength;
  }
  return utf8.decode(whole);
}
