import type { DeliveryEvent, DeliveryPort, GroupId, SessionId } from '@rooms-kit/core';
import { encodeEvent, encodeMessageEvent } from '@rooms-kit/protocol/server';
import type { GatewayStats } from '../gateway-stats.js';
import { OutboundFrame } from '../transports/outbound-frame.js';

/** A client session as the fan-out sees it. */
export interface DeliveryTarget {
  /**
   * False once the session takes no more frames (its connection ended; it stays registered until settled): the
   * fan-out skips it before encoding anything for it. Read for every recipient: must be a cheap check.
   */
  readonly receiving: boolean;
  /**
   * Queues a frame of a group whose outbound buffering is `intervalMs` (0 = next flush). Called only while
   * {@link receiving}. Must not throw.
   */
  deliver(frame: OutboundFrame, intervalMs: number): void;
  /** Told after a group's `discarded` event was delivered: forget what is tracked for it. Must not throw. */
  discarded(group: string): void;
}

/** Where the fan-out finds a recipient's session (the session registry). */
export interface DeliveryTargets {
  /** The session that gets `session`'s events, if any. */
  get(session: SessionId): DeliveryTarget | undefined;
}

/**
 * The latest message offset this node delivered for one group, shared by the local sessions that are its members.
 * A session reads it when its connection ends (the last offset it was handed, short of what it still had
 * unwritten), so the fan-out updates one number per message instead of one per recipient.
 */
export interface GroupCursor {
  /** The latest message offset delivered here (0 until one was, since the cursor exists). */
  offset: number;
  /** Sessions holding the cursor; it is dropped when none does. */
  holders: number;
}

/**
 * The kernel's `DeliveryPort` for this gateway: finds each recipient's session in the session registry and fans each
 * event out. Hot path: an event is encoded ONCE (a `message` with the protocol's template encoder) into one shared
 * frame whose wire bytes are built once per transport kind too; each recipient's session just queues that same
 * object, and the group's {@link GroupCursor} (not each recipient) records the offset. Sessions without a live
 * connection here (suspended, or ended and not settled yet) are skipped before anything is encoded for them: their
 * resume replays from the history.
 */
export class FanoutDelivery implements DeliveryPort {
  private readonly cursors = new Map<GroupId, GroupCursor>();

  constructor(
    private readonly stats: GatewayStats,
    private readonly sessions: DeliveryTargets,
  ) {}

  /** The cursor of `group`, for a session that is (becoming) a member; pair with {@link releaseCursor}. */
  acquireCursor(group: GroupId): GroupCursor {
    let cursor = this.cursors.get(group);
    if (cursor === undefined) {
      cursor = { offset: 0, holders: 0 };
      this.cursors.set(group, cursor);
    }
    cursor.holders++;
    return cursor;
  }

  /** Gives back a cursor from {@link acquireCursor}; the last holder drops it. */
  releaseCursor(group: GroupId, cursor: GroupCursor): void {
    cursor.holders--;
    if (cursor.holders <= 0 && this.cursors.get(group) === cursor) this.cursors.delete(group);
  }

  deliver(event: DeliveryEvent, to: ReadonlySet<SessionId>, except: SessionId | null, intervalMs: number): void {
    if (event.ev === 'message') {
      const cursor = this.cursors.get(event.group);
      if (cursor !== undefined && event.offset > cursor.offset) cursor.offset = event.offset;
    } else if (event.ev === 'discarded') {
      // A group created anew under this id starts its offsets again: it gets a cursor of its own.
      this.cursors.delete(event.group);
    }
    let frame: OutboundFrame | null = null;
    let count = 0;
    for (const session of to) {
      if (session === except) continue;
      const target = this.sessions.get(session);
      if (target === undefined || !target.receiving) continue;
      frame ??= encode(event);
      target.deliver(frame, intervalMs);
      if (event.ev === 'discarded') target.discarded(event.group);
      count++;
    }
    this.stats.deliveries += count;
  }
}

function encode(event: DeliveryEvent): OutboundFrame {
  if (event.ev === 'message') {
    return new OutboundFrame(encodeMessageEvent(event.group, event.from, event.data, event.offset), event.group, event.offset);
  }
  return new OutboundFrame(encodeEvent(event), event.group);
}
