/**
 * This client's broadcasts without `self` that have no reply yet, per group, numbered 1, 2, … in the order they were
 * sent (across groups). The server never sends such a broadcast back: its offset comes only in the reply, so a gap
 * seen before that reply may be one of them.
 */
export class OwnBroadcasts {
  /** Per group, the numbers in flight; a Set iterates in insertion order, so ascending. */
  readonly #inFlight = new Map<string, Set<number>>();
  #latest = 0;

  /** The number of the latest broadcast begun (0 before the first). */
  get latest(): number {
    return this.#latest;
  }

  /** Records a broadcast to `group` being sent; returns its number. */
  begin(group: string): number {
    const id = ++this.#latest;
    let inFlight = this.#inFlight.get(group);
    if (inFlight === undefined) {
      inFlight = new Set();
      this.#inFlight.set(group, inFlight);
    }
    inFlight.add(id);
    return id;
  }

  /** Records that broadcast `id` to `group` settled; false when it was not in flight (settled already, or cleared). */
  end(group: string, id: number): boolean {
    const inFlight = this.#inFlight.get(group);
    if (inFlight === undefined || !inFlight.delete(id)) return false;
    if (inFlight.size === 0) this.#inFlight.delete(group);
    return true;
  }

  /** The lowest number of the broadcasts to `group` still in flight, or undefined when none is. */
  oldest(group: string): number | undefined {
    const inFlight = this.#inFlight.get(group);
    return inFlight === undefined ? undefined : inFlight.values().next().value;
  }

  /** Forgets every broadcast in flight (later `end` calls return false). */
  clear(): void {
    this.#inFlight.clear();
  }
}
