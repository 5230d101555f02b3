import type { MarkerHandler } from '../marker.js';

/**
 * One benchmark client connection, whatever the target speaks. Requests (`create`, `join`, `leave`) resolve on the
 * server's success reply and reject on an error reply, a close or a timeout; `broadcast` is fire-and-forget.
 * Deliveries are not parsed into objects: the connection scans each frame for payload markers and calls `onMarker`.
 */
export interface BenchConnection {
  /** Resolves once the server has accepted the connection (for our gateway: once `welcome` arrived). */
  open(): Promise<void>;
  /** Creates the group and joins it (targets without an explicit create simply join). */
  create(group: string): Promise<void>;
  join(group: string): Promise<void>;
  leave(group: string): Promise<void>;
  /** Sends `data` to the other members of `group`, without waiting for anything. */
  broadcast(group: string, data: string): void;
  /** Closes the connection (normal close); idempotent. */
  close(): void;
  /** Called for every payload marker this connection receives, with the frame's arrival time (µs). */
  onMarker: MarkerHandler;
  /** Called when the server reports an error for a fire-and-forget request, or the connection drops unasked. */
  onProblem: (what: string) => void;
}

/** How long a request may wait for its reply before it fails. */
export const REQUEST_TIMEOUT_MS = 20_000;

/** Pending request replies by ref, each failing after `REQUEST_TIMEOUT_MS`. */
export class PendingReplies {
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private lastRef = 0;

  /** Registers a new request and returns its ref and the promise of its outcome. */
  add(what: string): { ref: number; done: Promise<void> } {
    const ref = ++this.lastRef;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new Error(`${what}: no reply within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(ref, { resolve, reject, timer });
    });
    return { ref, done };
  }

  /** Settles the request `ref`; returns false when no such request is pending. */
  settle(ref: number, error?: string): boolean {
    const entry = this.pending.get(ref);
    if (!entry) return false;
    this.pending.delete(ref);
    clearTimeout(entry.timer);
    if (error === undefined) entry.resolve();
    else entry.reject(new Error(error));
    return true;
  }

  /** Fails every pending request (the connection is gone). */
  failAll(reason: string): void {
    for (const ref of [...this.pending.keys()]) this.settle(ref, reason);
  }
}
