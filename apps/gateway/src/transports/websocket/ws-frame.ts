import type { WireEncoding } from '../transport.js';

/**
 * One complete, unmasked WebSocket text frame (FIN set, opcode 1) holding `text` as UTF-8 (RFC 6455 §5.2): the
 * bytes a server writes for a text message. Built once per event and written as is to every recipient's socket.
 */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) {
    frame[1] = length;
  } else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, header, 'utf8');
  return frame;
}

/** The WebSocket wire encoding: every server frame is one text frame (built once per frame, shared by all sockets). */
export const WEBSOCKET_ENCODING: WireEncoding = { kind: 'websocket', encode: encodeTextFrame };
