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

/** First delay before asking again for a gap whose recovery failed with a temporary error; doubles each time. */
const RETRY_MIN_MS = 100;
/** Largest delay between two recoveries of one gap (the hold time bounds them all). */
const RETRY_MAX_MS = 2000;

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
  /** The timer of the next recovery after a temporary failure, or null. */
  retry: ReturnType<typeof setTimeout> | null;
  /** Recoveries failed with a temporary error in a row while connected (the next delay doubles with each). */
  retries: number;
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
 * or more than `maxHeld` messages are held. A temporary join failure (e.g. `UNAVAILABLE` while the store recovers)
 * keeps the hold: while connected the join is sent again after 100 ms, doubling up to 2 s, until the hold time ends;
 * after a drop, on the resume.
 *
 * Own broadcasts (without `self`, see {@link ownBroadcast}) never arrive as messages: the offset in their reply
 * counts as seen. Their reply may come after a later message of the group (on Redis a node gets its publish's
 * reply and the other nodes' events on two connections; events of an `interval` group are held, replies are not), so
 * a hold asks for its gap only once the own broadcasts of the group sent before its first held message arrived have
 * settled, and only if their offsets did not fill it. A broadcast sent after that message cannot fill the gap (the
 * server published the message first), so it is not waited for. (Asking earlier would not echo either: the server
 * answers requests in order, so a broadcast's reply always precedes the replay of a later join.)
 *
 * A message from the session itself (its `from` is the session id of the welcome) reaches the client only in a
 * replay (a resume's, or a `join since`'s) or as the event of a `self:true` broadcast. It always fills its offset;
 * the application gets it only when it is a `self:true` broadcast's (see {@link OwnBroadcasts.claim}): a broadcast
 * without `self` whose reply was lost (its node died) is never echoed.
 */
export class MessageSequencer {
  readonly #holds = new Map<string, Hold>();
  readonly #own = new OwnBroadcasts();
  #connected = false;
  #closed = false;
  /** The session id of the current welcome, or null before the first. */
  #session: string | null = null;

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
        this.#hand(message);
        return;
      }
      hold = { buffer: new Map([[offset, message]]), timer: null, retry: null, retries: 0, attempt: null, asked: false, horizon: this.#own.latest };
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
   * A broadcast of `data` to `group` is being sent, without `self` (the server will not send it back live, its
   * offset comes in the reply) or with `self:true` (its message comes back and is delivered). Returns the function
   * to call exactly once when it settles: with the reply's `offset`; or with undefined when it failed, `unanswered`
   * true when it may have been published all the same (timeout, lost connection), false when it surely was not
   * (error reply, never sent). Later calls of it do nothing.
   */
  ownBroadcast(group: string, self = false, data: unknown = null): (offset: number | undefined, unanswered?: boolean) => void {
    const id = this.#own.begin(group, self, data);
    return (offset, unanswered = false) => {
      if (this.#closed || !this.#own.settle(group, id, offset, unanswered, this.offsets.last(group)) || self) return;
      if (offset !== undefined) this.offsets.own(group, offset);
      const hold = this.#holds.get(group);
      if (hold === undefined) return;
      // Never held from a conforming server (a replay is read before later requests run), but never to deliver.
      if (offset !== undefined) hold.buffer.delete(offset);
      this.#drain(group, hold);
      if (this.#holds.get(group) === hold) this.#askIfDue(group, hold);
    };
  }

  /** Forgets `group`: its hold and buffer, its own broadcasts (the session left the group, or it was discarded). */
  drop(group: string): void {
    this.#own.forget(group);
    this.#release(group);
  }

  /** The connection dropped: holds wait (their timers stop) for the resume. */
  disconnected(): void {
    this.#connected = false;
    for (const hold of this.#holds.values()) this.#stopTimers(hold);
  }

  /**
   * A connection of session `session` was welcomed. Resumed: every hold without a recovery in flight asks again,
   * and its timer restarts. A new session is in no group: the holds are given up (their messages delivered, the
   * gaps reported), and its own broadcasts are forgotten.
   */
  connected(resumed: boolean, session: string | null = null): void {
    this.#connected = true;
    for (const [group, hold] of [...this.#holds]) {
      if (!resumed) {
        this.#giveUp(group, hold, 'the session ended');
        continue;
      }
      this.#arm(group, hold);
      hold.retries = 0;
      // A lost connection failed every broadcast in flight: a hold that was waiting for them asks now.
      if (hold.attempt === null && (hold.asked || this.#due(group, hold))) this.#recover(group, hold);
    }
    // After the holds of an ended session were given up as that session's.
    this.#session = session;
    if (!resumed) this.#own.clear();
  }

  /** Forgets everything and stops every timer; later calls do nothing. */
  close(): void {
    this.#closed = true;
    this.#own.clear();
    for (const group of [...this.#holds.keys()]) this.#release(group);
  }

  /** Ends the hold of `group`, if any, and stops its timers. */
  #release(group: string): void {
    const hold = this.#holds.get(group);
    if (hold === undefined) return;
    this.#holds.delete(group);
    this.#stopTimers(hold);
  }

  #stopTimers(hold: Hold): void {
    if (hold.timer !== null) clearTimeout(hold.timer);
    if (hold.retry !== null) clearTimeout(hold.retry);
    hold.timer = null;
    hold.retry = null;
  }

  /** Hands a message on in its group's order: to the application, unless it is an own broadcast sent without `self`. */
  #hand(message: MessageEvent): void {
    const { group, from, offset, data } = message;
    if (from !== null && from === this.#session && !this.#own.claim(group, offset, data)) return;
    this.hooks.deliver(message);
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
        hold.retries = 0;
        if (result.recovered === false) this.#giveUp(group, hold, 'the server no longer holds them');
        // recovered: the replay follows the reply and drains the hold as it arrives.
      },
      (error: unknown) => {
        if (!current()) return;
        hold.attempt = null;
        if (error instanceof RoomsClientError && error.temporary) {
          // Connected: asked again soon, within the hold time (its timer is not restarted). Else on the resume.
          if (this.#connected) this.#retry(group, hold);
          return;
        }
        const code = error instanceof RoomsClientError ? error.code : 'an error';
        this.#giveUp(group, hold, `the recovery join failed with ${code}`);
      },
    );
  }

  /** Asks again for the gap of a hold after a backoff delay, if it is still waiting then and connected. */
  #retry(group: string, hold: Hold): void {
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(hold.retries++, 30));
    hold.retry = setTimeout(() => {
      hold.retry = null;
      if (this.#holds.get(group) === hold && hold.attempt === null && this.#connected) this.#recover(group, hold);
    }, delay);
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
      this.#hand(message);
      if (this.#holds.get(group) !== hold) return; // a listener left, closed or the like
    }
    if (hold.buffer.size === 0) {
      this.#release(group);
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
    this.#release(group);
    const held = [...hold.buffer.values()].sort((a, b) => a.offset - b.offset);
    const lost = lostRanges((this.offsets.last(group) ?? 0) + 1, held, this.offsets.ownAhead(group));
    if (lost.length > 0) {
      const list = lost.map(({ from, to }) => (from === to ? `${from}` : `${from}-${to}`)).join(', ');
      this.hooks.gap(new RoomsClientError('GAP', `messages ${list} of group ${group} were lost: ${why}`, false, { gap: { group, lost } }));
    }
    for (const message of held) {
      if (this.#closed) return;
      if (this.offsets.accept(group, message.offset)) this.#hand(message);
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
