/** Any message a server sends (a reply, an event or the welcome), as parsed JSON. */
export type ServerMessage = Record<string, unknown> & { ev?: string; ref?: number | null; ok?: boolean };

/** Picks the messages a wait is for. */
export type MessagePredicate = (message: ServerMessage) => boolean;

interface Waiter {
  readonly predicate: MessagePredicate;
  readonly count: number;
  readonly label: string;
  /** The matching messages so far, received before the wait began included (counted, not returned). */
  readonly found: ServerMessage[];
  settle(error: Error | null): void;
}

/**
 * MessageLog: the messages of one connection, in arrival order, and the waits for messages still to come. A wait
 * resolves once `count` messages match (received before it began or after), fails after its timeout, and fails at
 * once when the connection has closed (nothing more can come). Failures name what was awaited and describe the
 * connection with the `describe` callback.
 */
export class MessageLog {
  /** Every message added, in order. */
  readonly messages: ServerMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private ended = false;

  constructor(private readonly describe: () => string) {}

  /** Appends a received message and settles the waits it completes. */
  add(message: ServerMessage): void {
    this.messages.push(message);
    for (const waiter of [...this.waiters]) {
      let matches: boolean;
      try {
        matches = waiter.predicate(message);
      } catch (error) {
        waiter.settle(asError(error));
        continue;
      }
      if (!matches) continue;
      waiter.found.push(message);
      if (waiter.found.length >= waiter.count) waiter.settle(null);
    }
  }

  /**
   * Resolves, once `count` messages match, with every message that matches then (the ones received in the same turn
   * included), in arrival order; rejects naming
   * `label` after `timeoutMs`, when the connection closes first, or when `predicate` throws.
   */
  wait(predicate: MessagePredicate, count: number, label: string, timeoutMs: number): Promise<ServerMessage[]> {
    let found: ServerMessage[];
    try {
      found = this.messages.filter(predicate);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    if (found.length >= count) return Promise.resolve(found);
    if (this.ended) return Promise.reject(new Error(`${progress(label, found.length, count)}: nothing more can come, ${this.describe()}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        count,
        label,
        found,
        settle: (error) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          if (error) reject(error);
          // After the messages received in the same turn (the rest of a frame, say): the result is every match then.
          else queueMicrotask(() => resolve(this.messages.filter(predicate)));
        },
      };
      const timer = setTimeout(
        () => waiter.settle(new Error(`timed out after ${timeoutMs} ms ${progress(label, found.length, count)}; ${this.describe()}`)),
        timeoutMs,
      );
      this.waiters.add(waiter);
    });
  }

  /** The connection closed: every pending wait fails now, and so will every later one that is not already met. */
  connectionClosed(): void {
    this.ended = true;
    for (const waiter of [...this.waiters]) {
      waiter.settle(new Error(`the connection closed ${progress(waiter.label, waiter.found.length, waiter.count)}; ${this.describe()}`));
    }
  }
}

function progress(label: string, have: number, count: number): string {
  return count > 1 ? `waiting for ${count} ${label} (${have} so far)` : `waiting for ${label}`;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
