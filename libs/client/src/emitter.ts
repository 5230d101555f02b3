/**
 * A small typed event emitter: `Events` maps each event name to its payload type. Listeners run synchronously, in
 * subscription order; one that throws does not stop the others (its error is rethrown asynchronously, so it still
 * surfaces as an uncaught error). Subscribing or unsubscribing during an emit affects only later emits.
 */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** Calls `listener` on every `event`; returns a function that unsubscribes it (idempotent). */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    // A wrapper, so the same function subscribed twice is called twice and unsubscribes separately.
    const entry = (payload: never): void => listener(payload);
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  /** Calls the listeners of `event` with `payload`. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: Events[K]) => void)(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** The number of listeners of `event`. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }
}
