import type { RawData, WebSocket } from 'ws';

/** What handles one WebSocket's events (its WebSocket transport). Every method must not throw. */
export interface SocketOwner {
  /** A data frame from the client; `binary` for a binary frame (opcode 2), else text. */
  received(data: RawData, binary: boolean): void;
  /** A ping from the client (`ws` does not answer it by itself: the owner decides, see `autoPong` at the endpoint). */
  pinged(data: Buffer): void;
  /** A pong from the client (the heartbeat's answer). */
  ponged(): void;
  /** `ws` reported an error (it closes the socket itself; `close` follows). */
  socketError(error: Error): void;
  /** The WebSocket closed with `code` (after this, nothing more comes for it). */
  socketClosed(code: number): void;
}

/**
 * Routes the events of every accepted WebSocket to its owner through ONE set of listeners shared by all sockets
 * (each called with the socket as `this`), instead of a set of closures per connection: idle connections are the
 * bulk of a gateway's memory, and four closures plus their context and a `once` wrapper cost more than the map
 * entry that replaces them. Also tracks every socket until it closed (those still closing after their connection
 * ended included), so shutdown can drop them all.
 */
export class SocketRouter {
  private readonly owners = new Map<WebSocket, SocketOwner>();
  private readonly onMessage: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  private readonly onPing: (this: WebSocket, data: Buffer) => void;
  private readonly onPong: (this: WebSocket) => void;
  private readonly onError: (this: WebSocket, error: Error) => void;
  private readonly onClose: (this: WebSocket, code: number) => void;

  constructor() {
    const owners = this.owners;
    this.onMessage = function (data, isBinary) {
      owners.get(this)?.received(data, isBinary);
    };
    this.onPing = function (data) {
      owners.get(this)?.pinged(data);
    };
    this.onPong = function () {
      owners.get(this)?.ponged();
    };
    this.onError = function (error) {
      owners.get(this)?.socketError(error);
    };
    this.onClose = function (code) {
      const owner = owners.get(this);
      owners.delete(this);
      owner?.socketClosed(code);
    };
  }

  /** Sockets not closed yet. */
  get size(): number {
    return this.owners.size;
  }

  /** Routes `ws`'s events to `owner` until it closes. Call once per socket, before any of its events can fire. */
  attach(ws: WebSocket, owner: SocketOwner): void {
    this.owners.set(ws, owner);
    ws.on('message', this.onMessage);
    ws.on('ping', this.onPing);
    ws.on('pong', this.onPong);
    ws.on('error', this.onError);
    ws.on('close', this.onClose);
  }

  /** Drops every socket not closed yet (without a close frame); their `close` events still reach their owners. */
  terminateAll(): void {
    for (const ws of [...this.owners.keys()]) ws.terminate();
  }
}
