/**
 * `@rooms-kit/protocol/server`: what a server of docs/protocol.md (v1) needs: the wire vocabulary (types, names, limits,
 * close codes), {@link decodeRequest} (validation of every client frame with compiled TypeBox schemas) and the
 * encoders of every reply and event it sends.
 */
export * from './vocabulary.js';
export { decodeRequest, peekRef } from './server/decode-request.js';
export type { DecodeResult } from './server/decode-request.js';
export {
  encodeBatch,
  encodeErrorReply,
  encodeEvent,
  encodeMessageEvent,
  encodeMessageEventJson,
  encodeReply,
} from './server/encode.js';
