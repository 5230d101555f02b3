import { RoomsError, toRoomsError } from '@rooms-kit/contract';
import type { Clock } from '../clock.js';
import type { NodeId } from '../types.js';
import type { AttachedNodes } from './attached-nodes.js';

/** A send waiting for its reply. */
interface PendingSend {
  from: NodeId;
  to: NodeId;
  timer: unknown;
  fail(error: RoomsError): void;
}

/**
 * MemoryBus: the cluster bus between the nodes attached to one `InMemoryStore`. A message is handed to the target's
 * handler on a later microtask (never inside the sender's call), in send order; bodies and replies are copied as
 * JSON, as they would travel. A send to a node that is not alive, or while the store is unreachable, is refused at
 * once; a reply that does not come within the timeout (a `clock` timer) rejects it; closing either node rejects its
 * pending sends.
 */
export class MemoryBus {
  private readonly pending = new Set<PendingSend>();

  constructor(
    private readonly nodes: AttachedNodes,
    private readonly clock: Clock,
  ) {}

  /** Sends `body` from `from` to `to`; resolves with the reply of `to`'s handler (see `ClusterBus.send`). */
  send(from: NodeId, to: NodeId, body: unknown, timeoutMs: number): Promise<unknown> {
    let copy: unknown;
    try {
      this.nodes.check(from);
      if (!this.nodes.get(to)?.alive) throw new RoomsError('UNAVAILABLE', `node ${to} is not alive`);
      copy = copyJson(body);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      const entry: PendingSend = { from, to, timer: null, fail: (error) => finish(() => reject(error)) };
      const finish = (settle: () => void): void => {
        if (!this.pending.delete(entry)) return;
        this.clock.clearTimeout(entry.timer);
        settle();
      };
      entry.timer = this.clock.setTimeout(() => entry.fail(new RoomsError('UNAVAILABLE', `node ${to} did not answer within ${timeoutMs} ms`)), timeoutMs);
      this.pending.add(entry);
      void Promise.resolve().then(() => {
        const target = this.nodes.get(to);
        if (!this.pending.has(entry)) return;
        if (!target?.alive) return entry.fail(new RoomsError('UNAVAILABLE', `node ${to} is not alive`));
        let reply: unknown;
        try {
          reply = target.handler.onNodeMessage(from, copy);
        } catch (error) {
          return entry.fail(asReceived(error));
        }
        Promise.resolve(reply).then(
          (value) => {
            let answer: unknown;
            try {
              answer = copyJson(value);
            } catch (error) {
              return entry.fail(asReceived(error));
            }
            finish(() => resolve(answer));
          },
          (error: unknown) => entry.fail(asReceived(error)),
        );
      });
    });
  }

  /** Rejects every pending send from or to `node` (it closed or died). */
  forget(node: NodeId): void {
    for (const entry of [...this.pending]) {
      if (entry.from === node || entry.to === node) entry.fail(new RoomsError('UNAVAILABLE', `node ${node} is gone`));
    }
  }
}

/** The value as it arrives after a trip as JSON; throws `INTERNAL` for what JSON cannot carry. */
function copyJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch (error) {
    throw new RoomsError('INTERNAL', 'a cluster bus message must be JSON', { cause: error });
  }
}

/** A handler's failure as the sender gets it: the code and message of a `RoomsError`, else `INTERNAL`. */
function asReceived(error: unknown): RoomsError {
  const wire = toRoomsError(error).toWire();
  return new RoomsError(wire.code, wire.message);
}
