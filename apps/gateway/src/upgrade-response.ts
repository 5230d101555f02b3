import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Refuses a WebSocket upgrade with a bare HTTP response (`401` bad token, `404` wrong path, `503` not serving...)
 * and closes the socket.
 */
export function rejectUpgrade(socket: Duplex, status: number): void {
  if (socket.destroyed) return;
  const reason = STATUS_CODES[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
  // Do not wait for a client that keeps its end open.
  socket.once('finish', () => socket.destroy());
}
