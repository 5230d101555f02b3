/** One broadcast of this client to a group, from its sending until its message can no longer arrive. */
interface Sent {
  /** Numbered 1, 2, … in the order sent (across groups). */
  readonly id: number;
  /** Sent with `self:true`: the server sends its message back, and the application gets it. */
  readonly self: boolean;
  /** Its `data`, to tell apart broadcasts with a different `self` that a message may be (compared only then). */
  readonly data: unknown;
  /** Its offset, from its reply; only a `self:true` one is kept once it has one (until its message arrives). */
  offset: number | undefined;
  /** It was sent but no reply will come (timeout, lost connection): the server may or may not have published it. */
  unanswered: boolean;
  /** Bound on an unknown offset: the offset of a broadcast sent after it (the server runs requests in order). */
  below: number;
}

/** A broadcast without `self` whose reply is still to come: its message never arrives, its offset is in the reply. */
const quietInFlight = (sent: Sent): boolean => !sent.self && !sent.unanswered && sent.offset === undefined;

/** Whether `sent` may still be the broadcast of a message with an offset above `offset`. */
const possibleAbove = (sent: Sent, offset: number): boolean => (sent.offset ?? sent.below - 1) > offset;

/**
 * This client's broadcasts per group whose message may still come to it: those without `self` still waiting for
 * their reply (a gap seen meanwhile may be one of them: their offset comes only in the reply), those whose reply
 * never came (the node died or the request timed out: a resume replay or a `join since` may carry the message, with
 * the session's own id as `from`), and those with `self:true` until their message arrived. It tells whether a
 * message from the session itself is one the application gets ({@link claim}).
 */
export class OwnBroadcasts {
  /** Per group, in the order sent; a group without any has no entry. */
  readonly #sent = new Map<string, Sent[]>();
  #latest = 0;

  /** The number of the latest broadcast begun (0 before the first). */
  get latest(): number {
    return this.#latest;
  }

  /** Records a broadcast of `data` to `group`, with `self:true` or without, being sent; returns its number. */
  begin(group: string, self: boolean, data: unknown): number {
    const id = ++this.#latest;
    const sent: Sent = { id, self, data, offset: undefined, unanswered: false, below: Infinity };
    const list = this.#sent.get(group);
    if (list === undefined) this.#sent.set(group, [sent]);
    else list.push(sent);
    return id;
  }

  /**
   * Records how broadcast `id` to `group` settled: its reply's `offset`; or undefined when it failed, with
   * `unanswered` true when it may have been published all the same (no reply came). Groups seen up to `last` (the
   * run without a gap) need nothing of what came before. False when `id` was not waiting for its reply (settled,
   * its message arrived already, or forgotten).
   */
  settle(group: string, id: number, offset: number | undefined, unanswered: boolean, last: number | undefined): boolean {
    const list = this.#sent.get(group);
    const sent = list?.find((entry) => entry.id === id);
    if (list === undefined || sent === undefined || sent.offset !== undefined || sent.unanswered) return false;
    if (offset !== undefined) {
      sent.offset = offset;
      for (const earlier of list) if (earlier.id < id && earlier.offset === undefined) earlier.below = Math.min(earlier.below, offset);
    } else {
      sent.unanswered = unanswered;
    }
    // Without self its offset now counts as seen (by the caller); refused, it never was published.
    const done = (entry: Sent): boolean => entry === sent && (!sent.self || offset === undefined) && !sent.unanswered;
    this.#keep(group, list.filter((entry) => !done(entry) && (last === undefined || quietInFlight(entry) || possibleAbove(entry, last))));
    return true;
  }

  /** The lowest number of the broadcasts to `group` without `self` still waiting for their reply, or undefined. */
  oldest(group: string): number | undefined {
    return this.#sent.get(group)?.find(quietInFlight)?.id;
  }

  /**
   * A message of `group` at `offset` from this session itself is handed on, in offset order (every lower offset is
   * accounted for): true when it is the message of a `self:true` broadcast, which the application gets; false when
   * it is one without `self`, which it must not get. The broadcast is the one whose reply gave `offset`, else the
   * first sent that may have it (the server publishes a session's broadcasts in the order sent); when broadcasts
   * with and without `self` may both have it, the first with the same data decides.
   */
  claim(group: string, offset: number, data: unknown): boolean {
    const list = this.#sent.get(group);
    if (list === undefined) return false;
    let at = list.findIndex((sent) => sent.offset === offset);
    if (at < 0) {
      const candidates = list.filter((sent) => sent.offset === undefined && !quietInFlight(sent) && offset < sent.below);
      let match = candidates[0];
      if (match !== undefined && candidates.some((sent) => sent.self !== match?.self)) {
        const text = JSON.stringify(data);
        match = candidates.find((sent) => JSON.stringify(sent.data) === text) ?? match;
      }
      at = match === undefined ? -1 : list.indexOf(match);
    }
    const self = list[at]?.self === true;
    // Those sent before the match would have had a lower offset: they were never published.
    this.#keep(group, list.filter((sent, i) => quietInFlight(sent) || (i > at && possibleAbove(sent, offset))));
    return self;
  }

  /** Forgets the broadcasts to `group` (left or discarded; later `settle` calls return false). */
  forget(group: string): void {
    this.#sent.delete(group);
  }

  /** Forgets every broadcast (later `settle` calls return false). */
  clear(): void {
    this.#sent.clear();
  }

  #keep(group: string, list: Sent[]): void {
    if (list.length === 0) this.#sent.delete(group);
    else this.#sent.set(group, list);
  }
}
