import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** The bound of every wait on a socket here: generous, for a loaded machine. */
export const SOCKET_WAIT_MS = 60_000;

const sockets: Socket[] = [];

/** Opens a TCP connection to 127.0.0.1:`port`; resolves once connected. Destroyed by {@link destroySockets}. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.once('connect', () => {
      socket.off('error', reject);
      // A reset by the server is an expected outcome of these tests, not a failure.
      socket.on('error', () => undefined);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves with everything `socket` received once it closed; rejects after {@link SOCKET_WAIT_MS}. */
export function closedWith(socket: Socket, label = 'the socket to be closed'): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    if (socket.destroyed) return resolve('');
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}`)), SOCKET_WAIT_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
  });
}

/**
 * Sends `text` as is on a fresh connection and resolves with everything received until the server closed it (send
 * `Connection: close` in a plain request, else the server keeps it open for the next one).
 */
export async function exchange(port: number, text: string | Buffer): Promise<string> {
  const socket = await openSocket(port);
  const received = closedWith(socket, `an answer to ${JSON.stringify(text.toString().slice(0, 60))}`);
  socket.write(text);
  return received;
}

/** The status code of the first response in `raw` (0 when there is none). */
export function statusOf(raw: string): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(raw);
  return match ? Number(match[1]) : 0;
}

/** The body of the first response in `raw` (after the blank line). */
export function bodyOf(raw: string): string {
  const at = raw.indexOf('\r\n\r\n');
  return at === -1 ? '' : raw.slice(at + 4);
}

/** Sends a GET of `path` with `Connection: close` on `socket` and resolves with the answer, once the server closed it. */
export function getOn(socket: Socket, path: string): Promise<string> {
  const received = closedWith(socket, `an answer to GET ${path}`);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`);
  return received;
}

/** Destroys every socket this module opened. Use in `afterEach`. */
export function destroySockets(): void {
  for (const socket of sockets.splice(0)) socket.destroy();
}
