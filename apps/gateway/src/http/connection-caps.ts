import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/**
 * Caps the TCP connections one remote address holds open (`ROOMS_MAX_CONNECTIONS_PER_IP`), HTTP and WebSocket alike:
 * a socket beyond the cap is destroyed at once, before anything is read from it. Counts live in a Map keyed by
 * address whose entry is deleted when its count falls to 0, so the Map holds only addresses with open sockets.
 */
export class PerAddressConnectionCap {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly limit: number,
    private readonly logger: Logger,
  ) {}

  /** Addresses with at least one open socket (for tests and metrics). */
  get addresses(): number {
    return this.open.size;
  }

  /** Open sockets counted for `address` (0 when none). */
  countOf(address: string): number {
    return this.open.get(address) ?? 0;
  }

  /**
   * Counts a socket the server just accepted, until it closes, or destroys it when its address is at the cap.
   * Bound: pass it to the server's `connection` event.
   */
  readonly admit = (socket: Socket): void => {
    const address = socket.remoteAddress;
    // No address: the socket was reset before it was looked at; it closes by itself and holds nothing.
    if (address === undefined) return;
    const count = this.open.get(address) ?? 0;
    if (count >= this.limit) {
      this.logger.debug({ address, limit: this.limit }, 'connection refused: per-address cap reached');
      socket.destroy();
      return;
    }
    this.open.set(address, count + 1);
    socket.once('close', () => this.release(address));
  };

  private release(address: string): void {
    const count = (this.open.get(address) ?? 1) - 1;
    if (count <= 0) this.open.delete(address);
    else this.open.set(address, count);
  }
}
