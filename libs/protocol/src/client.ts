/**
 * `@rooms-kit/protocol/client`: what a client of docs/protocol.md (v1) needs, for browsers and Node: the wire vocabulary
 * (types, names, limits, close codes), {@link encodeRequest} and {@link decodeServerFrame}. It decodes with plain
 * field checks and never reaches a schema compiler, so a browser bundle stays small and runs under a strict CSP
 * (a test bundles this entry and checks that no module of TypeBox or of `src/server/` is in it).
 */
export * from './vocabulary.js';
export { decodeServerFrame } from './client/decode-server-frame.js';
export { encodeRequest } from './client/encode-request.js';
export { ProtocolError } from './client/protocol-error.js';
