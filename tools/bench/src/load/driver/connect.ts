import type { WireProtocol } from '../ipc.js';
import type { BenchConnection } from './connection.js';
import { RoomsConnection } from './rooms-connection.js';
import { SocketIoConnection } from './socketio-connection.js';
import { WsBaselineConnection } from './ws-baseline-connection.js';

/** A new connection to `url` (`ws://127.0.0.1:<port>`) in the target's protocol; call `open()` to await it. */
export function createConnection(protocol: WireProtocol, url: string): BenchConnection {
  switch (protocol) {
    case 'rooms':
      return new RoomsConnection(url);
    case 'ws':
      return new WsBaselineConnection(url);
    case 'socketio':
      return new SocketIoConnection(url.replace(/^ws:/, 'http:'));
  }
}

/**
 * Runs `task` for 0..count-1 with at most `limit` running at once (opening 10,000 sockets at once would only
 * measure the kernel's accept queue); rejects with the first failure after the running tasks settle.
 */
export async function forEachLimited(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const i = next++;
      try {
        await task(i);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  if (failure !== undefined) throw failure;
}
