/**
 * The last message offset seen per group, to drop repeated messages: offsets of a group only grow, by one per
 * message, and a replay after a resume or a `join` with `since` may repeat offsets already delivered.
 */
export class OffsetTracker {
  readonly #last = new Map<string, number>();

  /** True when a message of `group` with `offset` is new (and records it); false when it was seen already. */
  accept(group: string, offset: number): boolean {
    const last = this.#last.get(group);
    if (last !== undefined && offset <= last) return false;
    this.#last.set(group, offset);
    return true;
  }

  /**
   * Records a successful `join`: the group's latest offset is `offset`, and messages after `since` (when given)
   * will be replayed. A group already tracked keeps its position, unless `offset` is below it: offsets never go
   * back while a group exists, so the group was discarded and created anew and tracking restarts.
   */
  joined(group: string, offset: number, since?: number): void {
    const last = this.#last.get(group);
    if (last === undefined || last > offset) this.#last.set(group, since === undefined ? offset : Math.min(since, offset));
  }

  /** Records a group just created (its first message will have offset 1). */
  created(group: string): void {
    this.#last.set(group, 0);
  }

  /** Stops tracking `group` (left or discarded: a later incarnation starts again at offset 1). */
  forget(group: string): void {
    this.#last.delete(group);
  }

  /** Forgets every group (a new session). */
  clear(): void {
    this.#last.clear();
  }

  /** The last offset seen of `group`, or undefined when it is not tracked. */
  last(group: string): number | undefined {
    return this.#last.get(group);
  }
}
