import { encodeRequest } from '@rooms-kit/protocol/client';
import type { Op, Reply, Request, RequestFields, ResultByOp } from '@rooms-kit/protocol/client';
import { RoomsClientError } from './errors.js';

/** Called with each successful request's op, the fields it was sent with and its result, before it resolves. */
export type SucceededHook = (op: Op, fields: Readonly<Record<string, unknown>>, result: Record<string, unknown>) => void;

/**
 * Called once when a request settles: with its result on success; with undefined when it failed, `unanswered` true
 * when it was sent but no reply will be seen (timeout, lost connection, close), so the server may have run it.
 */
export type SettledHook<O extends Op> = (result: ResultByOp[O] | undefined, unanswered?: boolean) => void;

interface Pending {
  op: Op;
  fields: Record<string, unknown>;
  timer: ReturnType<typeof setTimeout>;
  settled: ((result: unknown, unanswered?: boolean) => void) | undefined;
  resolve(result: unknown): void;
  reject(error: RoomsClientError): void;
}

/**
 * The requests waiting for their reply: gives each one a fresh `ref` (1, 2, … for the client's life, across
 * connections), matches replies to them, and rejects those without a reply in time. Knows nothing of connections.
 */
export class RequestTracker {
  readonly #pending = new Map<number, Pending>();
  #nextRef = 1;

  constructor(
    private readonly timeoutMs: number,
    private readonly succeeded: SucceededHook,
  ) {}

  /**
   * Encodes `op` with `fields` and the next ref, hands the text to `transmit`, and resolves with the result of the
   * reply carrying that ref. Rejects with the server's error (see `settle`), with a temporary `TIMEOUT` when no reply
   * came within the timeout, or with `unsent()` at once when `transmit` returned false; throws JSON.stringify's
   * TypeError when the fields cannot be encoded. `settled`, when given, is called exactly once, synchronously as the
   * request settles (before the promise's callbacks run, so before the client handles the next message of a frame):
   * with the result, or with undefined on any failure (and `unanswered` true after a timeout or `failAll`).
   */
  send<O extends Op>(
    op: O,
    fields: RequestFields<O>,
    transmit: (text: string) => boolean,
    unsent: () => RoomsClientError,
    settled?: SettledHook<O>,
  ): Promise<ResultByOp[O]> {
    const ref = this.#nextRef++;
    let text: string;
    try {
      // Fields first: a JavaScript caller's stray `op` or `ref` cannot override ours.
      text = encodeRequest({ ...fields, op, ref } as Request);
    } catch (error) {
      settled?.(undefined); // e.g. a BigInt or a cycle in `data`: JSON.stringify's TypeError goes to the caller
      throw error;
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(ref)) {
          settled?.(undefined, true);
          reject(new RoomsClientError('TIMEOUT', `no reply to ${op} within ${this.timeoutMs} ms`, true));
        }
      }, this.timeoutMs);
      this.#pending.set(ref, { op, fields, timer, settled: settled as Pending['settled'], resolve: resolve as (result: unknown) => void, reject });
      if (!transmit(text)) {
        clearTimeout(timer);
        this.#pending.delete(ref);
        settled?.(undefined);
        reject(unsent());
      }
    });
  }

  /**
   * Settles the request of `ref` with `reply`: an error reply rejects with the server's code, message and
   * `temporary`; a success resolves with the reply without `ref` and `ok`, after the succeeded hook has seen it. A
   * reply to no pending request (timed out already, or never sent) is ignored.
   */
  settle(ref: number, reply: Reply): void {
    const pending = this.#pending.get(ref);
    if (pending === undefined) return;
    this.#pending.delete(ref);
    clearTimeout(pending.timer);
    if (!reply.ok) {
      pending.settled?.(undefined);
      pending.reject(RoomsClientError.fromWire(reply.error));
      return;
    }
    const { ref: _ref, ok: _ok, ...result } = reply;
    this.succeeded(pending.op, pending.fields, result as Record<string, unknown>);
    pending.settled?.(result);
    pending.resolve(result);
  }

  /** Rejects every pending request with `error` (their settled hooks learn they are unanswered) and stops their timers. */
  failAll(error: RoomsClientError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) {
      clearTimeout(entry.timer);
      entry.settled?.(undefined, true);
      entry.reject(error);
    }
  }
}
