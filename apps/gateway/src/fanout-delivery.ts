import type { DeliveryEvent, DeliveryPort, GroupId, SessionId } from '@rooms-kit/core';
import { encodeEvent, encodeMessageEvent } from '@rooms-kit/protocol';
import type { GatewayStats } from './gateway-stats.js';
import { OutboundFrame } from './outbound-frame.js';

/** A connection as the fan-out sees it. */
export interface DeliveryTarget {
  /** Queues a frame of a group whose outbound buffering is `intervalMs` (0 = next flush). Must not throw. */
  deliver(frame: OutboundFrame, intervalMs: number): void;
  /** Told after a group's `discarded` event was delivered: forget what is tracked for it. Must not throw. */
  discarded(group: string): void;
}

/**
 * The latest message offset this node delivered for one group, shared by the local connections that are its members.
 * A connection reads it when it ends (the last offset it was handed, short of what it still had unwritten), so the
 * fan-out updates one number per message instead of one per recipient.
 */
export interface GroupCursor {
  /** The latest message offset delivered here (0 until one was, since the cursor exists). */
  offset: number;
  /** Connections holding the cursor; it is dropped when none does. */
  holders: number;
}

/**
 * The kernel's `DeliveryPort` for this gateway: maps sessions to their live connection and fans each event out.
 * Hot path: an event is encoded ONCE (a `message` with the protocol's template encoder) into one shared frame whose
 * WebSocket bytes are built once too; each recipient's connection just queues that same object, and the group's
 * {@link GroupCursor} (not each recipient) records the offset. Sessions without a live connection here (suspended)
 * are skipped: their resume replays from the history.
 */
export class FanoutDelivery implements DeliveryPort {
  private readonly connections = new Map<SessionId, DeliveryTarget>();
  private readonly cursors = new Map<GroupId, GroupCursor>();

  constructor(private readonly stats: GatewayStats) {}

  /** Routes `session`'s events to `target` from now on (replacing any previous target). */
  attach(session: SessionId, target: DeliveryTarget): void {
    this.connections.set(session, target);
  }

  /** Stops routing `session`'s events to `target` (no-op when another target holds the session now). */
  detach(session: SessionId, target: DeliveryTarget): void {
    if (this.connections.get(session) === target) this.connections.delete(session);
  }

  /** The target holding `session`, if any. */
  get(session: SessionId): DeliveryTarget | undefined {
    return this.connections.get(session);
  }

  /** The cursor of `group`, for a connection that is (becoming) a member; pair with {@link releaseCursor}. */
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
      const target = this.connections.get(session);
      if (target === undefined) continue;
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
