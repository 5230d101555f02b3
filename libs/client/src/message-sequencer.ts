import type { JoinResult, MessageEvent } from '@rooms-kit/protocol/client';
import { RoomsClientError } from './errors.js';
import type { LostRange } from './errors.js';
import type { OffsetTracker } from './offsets.js';
import { OwnBroadcasts } from './own-broadcasts.js';

/** What a {@link MessageSequencer} needs from its client. */
export interface SequencerHooks {
  /** Hands one message to the application (in offset order per group, each offset once). */
  deliver(message: MessageEvent): void;
  /** Sends `{op:'join', group, since}`; rejects with a {@link RoomsClientError}. */
  recover(group: string, since: number): Promise<JoinResult>;
  /** Reports messages that could not be recovered (a `GAP` error). */
  gap(error: RoomsClientError): void;
}

/** Bounds of a hold: how long without progress, and how many messages per group, before giving the gap up. */
export interface SequencerLimits {
  holdMs: number;
  maxHeld: number;
}

/** One group waiting for the messages of a gap. */
interface Hold {
  /** Messages after the gap, by offset. */
  readonly buffer: Map<number, MessageEvent>;
  timer: ReturnType<typeof setTimeout> | null;
  /** The recovery request in flight, or null; a reply to an older one is ignored. */
  attempt: object | null;
  /** Whether a recovery was asked for (from then on, own broadcasts are not waited for). */
  asked: boolean;
  /**
   * Before the first recovery: own broadcasts numbered up to this one were sent before the first held message
   * arrived, so the gap may be theirs; the recovery waits for their replies (see {@link OwnBroadcasts}).
   */
  horizon: number;
}

/**
 * Delivers each group's messages in offset order, each once, and recovers messages lost in flight (docs/protocol.md,
 * Resume). A message of a tracked group beyond `last + 1` opens a hold: it and every later message of the group are
 * buffered, and one `join` with `since: last` asks the server to replay the gap; the contiguous run after `last` is
 * delivered as it fills. The hold is given up (buffer delivered in order, the hole skipped, a `GAP` error reported)
 * when the reply says `recovered:false`, the join fails for good, nothing progresses for `holdMs` while connected,
 * or more than `maxHeld` messages are held. A temporary join failure keeps the hold and retries on the next resume.
 *
 * Own broadcasts (without `self`, see {@link ownBroadcast}) never arrive as messages: the offset in their reply
 * counts as seen. Their reply may come after a later message of the group (on Redis a node gets its publish's
 * reply and the other nodes' events on two connections; events of an `interval` group are held, replies are not), so
 * a hold asks for its gap only once the own broadcasts of the group sent before its first held message arrived have
 * settled, and only if their offsets did not fill it. A broadcast sent after that message cannot fill the gap (the
 * server published the message first), so it is not waited for. (Asking earlier would not echo either: the server
 * answers requests in order, so a broadcast's reply always precedes the replay of a later join.)
 */
export class MessageSequencer {
  readonly #holds = new Map<string, Hold>();
  readonly #own = new OwnBroadcasts();
  #connected = false;
  #closed = false;

  constructor(
    private readonly offsets: OffsetTracker,
    private readonly hooks: SequencerHooks,
    private readonly limits: SequencerLimits,
  ) {}

  /** Takes one `message` event from the server. */
  receive(message: MessageEvent): void {
    if (this.#closed) return;
    const { group, offset } = message;
    if (this.offsets.seen(group, offset)) return;
    let hold = this.#holds.get(group);
    if (hold === undefined) {
      const last = this.offsets.last(group);
      if (last === undefined || offset === last + 1) {
        this.offsets.accept(group, offset);
        this.hooks.deliver(message);
        return;
      }
      hold = { buffer: new Map([[offset, message]]), timer: null, attempt: null, asked: false, horizon: this.#own.latest };
      this.#holds.set(group, hold);
      if (!this.#askIfDue(group, hold)) this.#arm(group, hold);
      return;
    }
    if (hold.buffer.has(offset)) return;
    hold.buffer.set(offset, message);
    if (hold.buffer.size > this.limits.maxHeld) {
      this.#giveUp(group, hold, `more than ${this.limits.maxHeld} messages held`);
      return;
    }
    this.#drain(group, hold);
  }

  /**
   * A broadcast to `group` without `self` is being sent: the server will not send it back, its offset comes in the
   * reply. Returns the function to call exactly once when it settles, with the reply's `offset`, or with undefined
   * when it failed (error reply, timeout, lost connection: no offset is known). Later calls of it do nothing.
   */
  ownBroadcast(group: string): (offset: number | undefined) => void {
    const id = this.#own.begin(group);
    return (offset) => {
      if (!this.#own.end(group, id) || this.#closed) return;
      if (offset !== undefined) this.offsets.own(group, offset);
      const hold = this.#holds.get(group);
      if (hold === undefined) return;
      // Never held from a conforming server (a replay is read before later requests run), but never to deliver.
      if (offset !== undefined) hold.buffer.delete(offset);
      this.#drain(group, hold);
      if (this.#holds.get(group) === hold) this.#askIfDue(group, hold);
    };
  }

  /** Drops the hold of `group` and its buffer (the session left the group, or it was discarded). */
  drop(group: string): void {
    const hold = this.#holds.get(group);
    if (hold === undefined) return;
    this.#holds.delete(group);
    if (hold.timer !== null) clearTimeout(hold.timer);
  }

  /** The connection dropped: holds wait (their timers stop) for the resume. */
  disconnected(): void {
    this.#connected = false;
    for (const hold of this.#holds.values()) {
      if (hold.timer !== null) clearTimeout(hold.timer);
      hold.timer = null;
    }
  }

  /**
   * A connection was welcomed. Resumed: every hold without a recovery in flight asks again, and its timer restarts.
   * A new session is in no group: the holds are given up (their messages delivered, the gaps reported).
   */
  connected(resumed: boolean): void {
    this.#connected = true;
    for (const [group, hold] of [...this.#holds]) {
      if (!resumed) {
        this.#giveUp(group, hold, 'the session ended');
        continue;
      }
      this.#arm(group, hold);
      // A lost connection failed every broadcast in flight: a hold that was waiting for them asks now.
      if (hold.attempt === null && (hold.asked || this.#due(group, hold))) this.#recover(group, hold);
    }
  }

  /** Forgets everything and stops every timer; later calls do nothing. */
  close(): void {
    this.#closed = true;
    this.#own.clear();
    for (const group of [...this.#holds.keys()]) this.drop(group);
  }

  /** True when no own broadcast that the gap of a hold may be is in flight any more. */
  #due(group: string, hold: Hold): boolean {
    const oldest = this.#own.oldest(group);
    return oldest === undefined || oldest > hold.horizon;
  }

  /** Asks for the gap of a hold not asked for yet, when due and connected (its timer restarts); true when it did. */
  #askIfDue(group: string, hold: Hold): boolean {
    if (hold.asked || hold.attempt !== null || !this.#connected || !this.#due(group, hold)) return false;
    this.#arm(group, hold);
    this.#recover(group, hold);
    return true;
  }

  #recover(group: string, hold: Hold): void {
    const since = this.offsets.last(group) ?? 0;
    const attempt = {};
    hold.attempt = attempt;
    hold.asked = true;
    const current = (): boolean => this.#holds.get(group) === hold && hold.attempt === attempt;
    this.hooks.recover(group, since).then(
      (result) => {
        if (!current()) return;
        hold.attempt = null;
        if (result.recovered === false) this.#giveUp(group, hold, 'the server no longer holds them');
        // recovered: the replay follows the reply and drains the hold as it arrives.
      },
      (error: unknown) => {
        if (!current()) return;
        hold.attempt = null;
        if (error instanceof RoomsClientError && error.temporary) return; // retried on the next resume
        const code = error instanceof RoomsClientError ? error.code : 'an error';
        this.#giveUp(group, hold, `the recovery join failed with ${code}`);
      },
    );
  }

  /** Delivers the contiguous run after the group's last offset; ends the hold when nothing is left. */
  #drain(group: string, hold: Hold): void {
    let progressed = false;
    for (;;) {
      const next = (this.offsets.last(group) ?? 0) + 1;
      const message = hold.buffer.get(next);
      if (message === undefined) break;
      hold.buffer.delete(next);
      this.offsets.accept(group, next);
      progressed = true;
      this.hooks.deliver(message);
      if (this.#holds.get(group) !== hold) return; // a listener left, closed or the like
    }
    if (hold.buffer.size === 0) {
      this.drop(group);
    } else if (progressed) {
      // A new gap: its first held message arrived by now, so own broadcasts sent until now may be what it is.
      if (!hold.asked) hold.horizon = this.#own.latest;
      if (!this.#askIfDue(group, hold)) this.#arm(group, hold);
    }
  }

  /** (Re)starts the no-progress timer of a hold, while connected. */
  #arm(group: string, hold: Hold): void {
    if (hold.timer !== null) clearTimeout(hold.timer);
    hold.timer = null;
    if (!this.#connected) return;
    hold.timer = setTimeout(() => {
      hold.timer = null;
      if (this.#holds.get(group) === hold) this.#giveUp(group, hold, `no progress within ${this.limits.holdMs} ms`);
    }, this.limits.holdMs);
  }

  /** Ends a hold without its gap: reports the missing offsets, then delivers the buffer in offset order. */
  #giveUp(group: string, hold: Hold, why: string): void {
    this.drop(group);
    const held = [...hold.buffer.values()].sort((a, b) => a.offset - b.offset);
    const lost = lostRanges((this.offsets.last(group) ?? 0) + 1, held, this.offsets.ownAhead(group));
    if (lost.length > 0) {
      const list = lost.map(({ from, to }) => (from === to ? `${from}` : `${from}-${to}`)).join(', ');
      this.hooks.gap(new RoomsClientError('GAP', `messages ${list} of group ${group} were lost: ${why}`, false, { gap: { group, lost } }));
    }
    for (const message of held) {
      if (this.#closed) return;
      if (this.offsets.accept(group, message.offset)) this.hooks.deliver(message);
    }
  }
}

/**
 * The offsets missing before each of `held` (ascending, none of them own), from `expected` on, as ranges: the holes
 * between the messages, without the own offsets (ascending), which are not lost.
 */
function lostRanges(expected: number, held: readonly MessageEvent[], own: readonly number[]): LostRange[] {
  const lost: LostRange[] = [];
  let from = expected;
  let next = 0;
  for (const { offset } of held) {
    for (; next < own.length && (own[next] as number) < offset; next++) {
      const skipped = own[next] as number;
      if (skipped > from) lost.push({ from, to: skipped - 1 });
      from = Math.max(from, skipped + 1);
    }
    if (offset > from) lost.push({ from, to: offset - 1 });
    from = offset + 1;
  }
  return lost;
}
