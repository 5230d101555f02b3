/**
 * The offsets seen per group, to drop repeated messages: offsets of a group only grow, by one per message, and a
 * replay after a resume or a `join` with `since` may repeat offsets already delivered. Per tracked group it keeps the
 * last offset of the contiguous run seen, and the offsets of this client's own broadcasts (without `self`) beyond it:
 * those never arrive as messages, their offset comes in the `broadcast` reply, and the run moves over them as soon as
 * it reaches them, so they are neither a gap nor delivered when a replay repeats them.
 */
export class OffsetTracker {
  readonly #last = new Map<string, number>();
  /** Own offsets above the group's last one, by group; a group without any has no entry. */
  readonly #own = new Map<string, Set<number>>();

  /**
   * True when a message of `group` with `offset` is new (and records it as the last seen, moving over own offsets
   * that follow); false when it was seen already (at or below the last offset, or an own one).
   */
  accept(group: string, offset: number): boolean {
    if (this.seen(group, offset)) return false;
    this.#advance(group, offset);
    return true;
  }

  /** True when `group` is tracked and `offset` is at or below its last offset, or one of this client's own. */
  seen(group: string, offset: number): boolean {
    const last = this.#last.get(group);
    if (last === undefined) return false;
    if (offset <= last) return true;
    return offset > last + 1 && this.#own.size > 0 && this.#own.get(group)?.has(offset) === true;
  }

  /**
   * Records the `offset` of this client's own broadcast to `group` (one made without `self`, so the server does not
   * send it back): it counts as seen. Ignored for an untracked group, an offset already passed, or one that is not
   * a positive safe integer.
   */
  own(group: string, offset: number): void {
    const last = this.#last.get(group);
    if (last === undefined || !Number.isSafeInteger(offset) || offset <= last) return;
    if (offset === last + 1) {
      this.#advance(group, offset);
      return;
    }
    let own = this.#own.get(group);
    if (own === undefined) {
      own = new Set();
      this.#own.set(group, own);
    }
    own.add(offset);
  }

  /** The own offsets of `group` above its last offset, in ascending order (empty when none). */
  ownAhead(group: string): number[] {
    const own = this.#own.get(group);
    return own === undefined ? [] : [...own].sort((a, b) => a - b);
  }

  /**
   * Records a successful `join`: the group's latest offset is `offset`, and messages after `since` (when given)
   * will be replayed. A group already tracked keeps its position, unless `offset` is below it: offsets never go
   * back while a group exists, so the group was discarded and created anew and tracking restarts.
   */
  joined(group: string, offset: number, since?: number): void {
    const last = this.#last.get(group);
    if (last !== undefined && last <= offset) return;
    this.#own.delete(group);
    this.#last.set(group, since === undefined ? offset : Math.min(since, offset));
  }

  /** Records a group just created (its first message will have offset 1). */
  created(group: string): void {
    this.#own.delete(group);
    this.#last.set(group, 0);
  }

  /** Stops tracking `group` (left or discarded: a later incarnation starts again at offset 1). */
  forget(group: string): void {
    this.#last.delete(group);
    this.#own.delete(group);
  }

  /** Forgets every group (a new session). */
  clear(): void {
    this.#last.clear();
    this.#own.clear();
  }

  /** The last offset of the contiguous run seen of `group` (own offsets included), or undefined when not tracked. */
  last(group: string): number | undefined {
    return this.#last.get(group);
  }

  /** Makes `offset` the group's last one, then moves over the own offsets right after it; drops those passed. */
  #advance(group: string, offset: number): void {
    let last = offset;
    const own = this.#own.size > 0 ? this.#own.get(group) : undefined;
    if (own !== undefined) {
      for (const passed of own) if (passed <= last) own.delete(passed);
      while (own.delete(last + 1)) last++;
      if (own.size === 0) this.#own.delete(group);
    }
    this.#last.set(group, last);
  }
}
