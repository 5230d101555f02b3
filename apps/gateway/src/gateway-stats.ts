/**
 * Plain counters the hot paths bump (a property increment, no label lookup); `metrics.ts` turns them into Prometheus
 * counters at scrape time. Monotonic: nothing ever decrements them.
 */
export class GatewayStats {
  /** Requests executed, by op (refused and invalid frames are counted under `errors`). */
  readonly requests = new Map<string, number>();
  /** Error replies and connection errors, by code. */
  readonly errors = new Map<string, number>();
  /** Connections closed by the server, by close code. */
  readonly closes = new Map<number, number>();
  /** Frames received from clients. */
  framesIn = 0;
  /** Messages published through this node (`broadcast` and admin `announce`). */
  messagesIn = 0;
  /** Events handed to a connection (one per recipient). */
  deliveries = 0;
  /** Bytes written to client sockets. */
  outboundBytes = 0;
  /** Connections accepted. */
  connectionsOpened = 0;

  /** Adds one to `map[key]`. */
  static bump<K>(map: Map<K, number>, key: K): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}
