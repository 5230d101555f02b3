import type { Duplex, Writable } from 'node:stream';
import { CloseCode } from '@rooms-kit/protocol/server';
import type { RawData, WebSocket } from 'ws';
import type { OutboundFrame } from '../outbound-frame.js';
import type { Transport, TransportKind, TransportListener, WireEncoding } from '../transport.js';
import type { SocketOwner } from './socket-router.js';
import { wsErrorCloseCode } from './ws-error-close-code.js';
import { WEBSOCKET_ENCODING } from './ws-frame.js';

/**
 * How long a client closed as a slow consumer (4008) gets to complete the close handshake before its socket is
 * destroyed: a client that does not read would otherwise keep its buffers for `ws`'s 30 s close timeout.
 */
export const SLOW_CLOSE_GRACE_MS = 1000;

/**
 * The WebSocket transport: one accepted `ws` socket. Frames go out as hand-built text frames (built once per frame
 * for every socket, see {@link WEBSOCKET_ENCODING}) written straight to the TCP socket, a flush's frames corked into
 * one system call; keepalive is a WebSocket ping whose pong must come before the next tick; a client's ping is answered
 * only when its session lets it through the rate limit. It does not listen to
 * `ws` itself: the endpoint's `SocketRouter` routes the socket's events to its {@link SocketOwner} methods (one set
 * of listeners for all sockets), which it hands on to the session.
 */
export class WebSocketTransport implements Transport, SocketOwner {
  private listener: TransportListener | null = null;
  /** False from a ping until its pong. */
  private answered = true;
  private closeGraceTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
  ) {}

  get kind(): TransportKind {
    return 'websocket';
  }

  get encoding(): WireEncoding {
    return WEBSOCKET_ENCODING;
  }

  /** True while the WebSocket is open (not once its close handshake began). */
  get writable(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** The TCP socket's unsent bytes. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  bind(listener: TransportListener): void {
    this.listener = listener;
  }

  write(frames: readonly OutboundFrame[], onWritten?: () => void): void {
    writeFrames(this.socket, frames, WEBSOCKET_ENCODING, onWritten);
  }

  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  /** False when the previous ping got no pong, or a ping cannot be sent; else pings. */
  keepalive(): boolean {
    if (!this.answered) return false;
    this.answered = false;
    try {
      this.ws.ping();
    } catch {
      return false;
    }
    return true;
  }

  /**
   * Starts the close handshake (a socket that cannot is dropped). A slow consumer (4008) gets
   * {@link SLOW_CLOSE_GRACE_MS} to complete it before its socket is destroyed.
   */
  close(code: number, reason: string): void {
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
    if (code === CloseCode.SLOW_CONSUMER && this.closeGraceTimer === null && this.ws.readyState !== this.ws.CLOSED) {
      this.closeGraceTimer = setTimeout(() => {
        this.closeGraceTimer = null;
        this.ws.terminate();
      }, SLOW_CLOSE_GRACE_MS);
    }
  }

  terminate(): void {
    this.ws.terminate();
  }

  // ---- SocketOwner (the socket's events, routed by the endpoint's SocketRouter) ---------------------------------

  received(data: RawData, binary: boolean): void {
    this.listener?.received(data, binary);
  }

  pinged(data: Buffer): void {
    // Every frame counts against the rate limit: a ping over it gets no pong (docs/protocol.md "Limits").
    if (this.listener?.pinged() !== true || this.ws.readyState !== this.ws.OPEN) return;
    try {
      this.ws.pong(data);
    } catch {
      // The socket is going away: its close event follows.
    }
  }

  ponged(): void {
    this.answered = true;
  }

  socketError(error: Error): void {
    // `ws` closes by itself on protocol errors (e.g. 1009 for a frame over ROOMS_MAX_PAYLOAD): say with what.
    this.listener?.failed(error, wsErrorCloseCode(error));
  }

  socketClosed(code: number): void {
    if (this.closeGraceTimer !== null) clearTimeout(this.closeGraceTimer);
    this.closeGraceTimer = null;
    this.listener?.closed(code);
  }
}

/**
 * Writes `frames` (as `encoding` puts them on the wire) to `socket` in order: a single frame in one write, more in
 * one corked batch (one system call for many frames). `onWritten`, when given, is called once the socket has
 * handed the last of them to the kernel (or failed).
 */
export function writeFrames(socket: Writable, frames: readonly OutboundFrame[], encoding: WireEncoding, onWritten?: () => void): void {
  const last = frames.length - 1;
  if (last < 0) {
    onWritten?.();
    return;
  }
  if (last === 0) {
    socket.write((frames[0] as OutboundFrame).encoded(encoding), onWritten);
    return;
  }
  socket.cork();
  for (let i = 0; i < last; i++) socket.write((frames[i] as OutboundFrame).encoded(encoding));
  socket.write((frames[last] as OutboundFrame).encoded(encoding), onWritten);
  socket.uncork();
}
