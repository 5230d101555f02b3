import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { WebSocketConstructor } from '@rooms-kit/client';

/**
 * NodeRouter: what a load balancer in front of the nodes would do for the clients. Each client has a home node; a
 * new connection goes to the home node while it is in rotation, else to the next node in rotation. A node is taken
 * out of rotation before it is killed or drained (as an operator's balancer would) and put back once restarted; a
 * stopped node stays in rotation (nobody knows yet). Connections already open are never moved.
 */
export class NodeRouter {
  readonly #ports: number[];
  readonly #inRotation: boolean[];

  /** `ports[i]`: the port of node i; every node starts in rotation. */
  constructor(ports: readonly number[]) {
    this.#ports = [...ports];
    this.#inRotation = ports.map(() => true);
  }

  /** Node ids (from the welcomes) by the index of the node that sent them: a restarted node has a new id. */
  readonly #ids = new Map<string, number>();

  /** Records that node `i` sent a welcome as `id`. */
  learn(id: string, i: number): void {
    this.#ids.set(id, i);
  }

  /** "node-abc (node 2)", or the id alone when no client was welcomed by it. */
  describeId(id: string): string {
    const i = this.#ids.get(id);
    return i === undefined ? id : `${id} (node ${i + 1})`;
  }

  /** Takes node `i` out of rotation: new connections go elsewhere. */
  markDown(i: number): void {
    this.#inRotation[i] = false;
  }

  /** Puts node `i` back in rotation. */
  markUp(i: number): void {
    this.#inRotation[i] = true;
  }

  /** The node a new connection of a client whose home is `home` goes to (its home when no node is in rotation). */
  pick(home: number): number {
    const count = this.#ports.length;
    for (let step = 0; step < count; step++) {
      const node = (home + step) % count;
      if (this.#inRotation[node]) return node;
    }
    return home;
  }

  /** `ws://127.0.0.1:<port>/v1` of node `node`. */
  wsUrl(node: number): string {
    return `ws://127.0.0.1:${this.#ports[node]}/v1`;
  }

  /** `url` (a client's connection URL, query included) pointed at node `node`'s port. */
  urlFor(url: string, node: number): string {
    const target = new URL(url);
    target.port = String(this.#ports[node]);
    return target.toString();
  }
}

/** Told of each connection a client opens, before the SDK sees any of its frames. */
export interface ConnectionWatcher {
  /** A connection to node `node` is being opened; returns where each of its text frames goes, before the SDK. */
  opened(node: number): (text: string) => void;
}

/**
 * The `WebSocket` option of one client's SDK: `ws`'s WebSocket, routed by `router` from the client's `home`, with a
 * tap that hands every text frame to `watcher` before the SDK handles it (its listener is registered first, and `ws`
 * calls listeners in order). The tap sees the wire as it is: repeats, gaps and own broadcasts in replays included.
 */
export function routedWebSocket(router: NodeRouter, home: number, watcher: ConnectionWatcher): WebSocketConstructor {
  return class RoutedWebSocket extends WebSocket {
    constructor(url: string) {
      const node = router.pick(home);
      super(router.urlFor(url, node));
      const sink = watcher.opened(node);
      this.on('message', (data: RawData, isBinary: boolean) => {
        if (!isBinary) sink(frameText(data));
      });
    }
  };
}

/** The text of a frame as `ws` hands it to listeners (the SDK sets `binaryType` to `arraybuffer`). */
function frameText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
