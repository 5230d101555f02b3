/**
 * @rooms-kit/protocol: the wire contract of PROTOCOL.md (v1) as types, constants, validation of everything a client
 * sends (server side) and of everything a server sends (client side), and encoders for every frame.
 *
 * This `.` entry is both sides together. Prefer `@rooms-kit/protocol/client` (no schema compiler: what a browser
 * bundle should import) or `@rooms-kit/protocol/server` (with `decodeRequest` and its compiled schemas).
 */
export * from './client.js';
export * from './server.js';
