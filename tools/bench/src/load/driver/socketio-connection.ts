import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { nowMicros, scanString } from '../marker.js';
import type { MarkerHandler } from '../marker.js';
import { REQUEST_TIMEOUT_MS } from './connection.js';
import type { BenchConnection } from './connection.js';

/**
 * A Socket.IO 4.8 client on the websocket transport only (no long-polling upgrade dance), speaking the bench
 * server's events: `join`/`leave` with an acknowledgement, `bcast` (room, data) and deliveries as `msg` (data).
 */
export class SocketIoConnection implements BenchConnection {
  onMarker: MarkerHandler = () => {};
  onProblem: (what: string) => void = () => {};
  private readonly socket: Socket;
  private readonly opened: Promise<void>;
  private closing = false;

  constructor(url: string) {
    this.socket = io(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: REQUEST_TIMEOUT_MS,
    });
    this.opened = new Promise<void>((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', reject);
    });
    this.opened.catch(() => {});
    this.socket.on('msg', (data: string) => {
      scanString(data, nowMicros(), this.onMarker);
    });
    this.socket.on('disconnect', (reason) => {
      if (!this.closing) this.onProblem(`disconnected: ${reason}`);
    });
  }

  open(): Promise<void> {
    return this.opened;
  }

  create(group: string): Promise<void> {
    return this.join(group);
  }

  async join(group: string): Promise<void> {
    await this.socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck('join', group);
  }

  async leave(group: string): Promise<void> {
    await this.socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck('leave', group);
  }

  broadcast(group: string, data: string): void {
    this.socket.emit('bcast', group, data);
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.disconnect();
  }
}
