/** Offsets a connection skipped in a group: `from` to `to` inclusive, seen in phase `phase`. */
export interface WireHole {
  group: string;
  from: number;
  to: number;
  phase: number;
}

/** Told of every `message` event seen on the wire (who sent which offset, for the audit). */
export type WireMessageSink = (group: string, offset: number, data: unknown) => void;

/**
 * ConnectionLog: what one connection carried, read off the wire before the SDK (see `routedWebSocket`), for the live
 * gap check: per group, the highest offset the connection has seen, and every hole, i.e. a `message` whose offset is
 * more than one past it. A connection's start in a group is its `join` (or `create`) reply, whose `offset` is where its
 * messages must continue; on a resumed connection, the offset its welcome gives for the group (where the replay
 * starts), or else its first message (the server need not say where its replay starts; what was lost in flight
 * before it is the SDK's to recover with `join since`, not a live gap). A message at or below the highest offset is a replay's repeat (allowed by the protocol after a resume or a
 * `join` with `since`) or one arriving after its hole was recorded: neither moves the position. Whether a hole is a
 * live gap is decided later, once it is known who sent each skipped offset: the client's own broadcasts (without
 * `self`) never come back, and their replies may arrive after a later message.
 */
export class ConnectionLog {
  /** Every hole seen, in order. */
  readonly holes: WireHole[] = [];
  /** Text frames that were not JSON. */
  unparsable = 0;
  readonly #last = new Map<string, number>();

  constructor(
    /** The node the connection went to. */
    readonly node: number,
    private readonly phase: () => number,
    private readonly onMessage: WireMessageSink,
    /** Told the node id of the connection's welcome. */
    private readonly onWelcome: (nodeId: string) => void = () => undefined,
  ) {}

  /** Takes one text frame as the server sent it (an object or an array of them). */
  frame(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.unparsable++;
      return;
    }
    if (Array.isArray(parsed)) for (const item of parsed) this.#object(item);
    else this.#object(parsed);
  }

  /** The highest offset of `group` seen on this connection, or undefined before its start. */
  last(group: string): number | undefined {
    return this.#last.get(group);
  }

  #object(item: unknown): void {
    if (typeof item !== 'object' || item === null) return;
    const fields = item as Record<string, unknown>;
    if (fields.ev === 'message' && typeof fields.group === 'string' && typeof fields.offset === 'number') {
      this.onMessage(fields.group, fields.offset, fields.data);
      this.#advance(fields.group, fields.offset);
    } else if (fields.ev === 'welcome') {
      if (typeof fields.node === 'string') this.onWelcome(fields.node);
      if (fields.resumed === true && Array.isArray(fields.groups)) this.#resumed(fields.groups as unknown[]);
    } else if (fields.ok === true && typeof fields.group === 'string' && Array.isArray(fields.members)) {
      // The replies carrying `group` and `members` are `create`, `join` and `members`; the chaos clients never ask
      // `members`. A create reply has no offset: the group is new, its first message is 1.
      if (fields.already !== true) this.#start(fields.group, typeof fields.offset === 'number' ? fields.offset : 0);
    }
  }

  /**
   * A resumed welcome that says where each group's replay starts (docs/protocol.md, "what a resume returns"): from
   * there on the connection must be contiguous. Without it, the first message is the start.
   */
  #resumed(groups: unknown[]): void {
    for (const entry of groups) {
      const { group, offset } = (entry ?? {}) as Record<string, unknown>;
      if (typeof group === 'string' && typeof offset === 'number') this.#start(group, offset);
    }
  }

  /** A join of a group the session was not in: its messages continue after `offset`. */
  #start(group: string, offset: number): void {
    const last = this.#last.get(group);
    if (last === undefined || offset > last) this.#last.set(group, offset);
  }

  #advance(group: string, offset: number): void {
    const last = this.#last.get(group);
    if (last !== undefined && offset <= last) return;
    if (last !== undefined && offset > last + 1) this.holes.push({ group, from: last + 1, to: offset - 1, phase: this.phase() });
    this.#last.set(group, offset);
  }
}
