import type { DeliveryEvent, DeliveryPort, SessionId } from '@rooms/core';
import { encodeEvent, encodeMessageEvent } from '@rooms/protocol';
import type { GatewayStats } from './gateway-stats.js';
import { OutboundFrame } from './outbound-frame.js';

/** A connection as the fan-out sees it. */
export interface DeliveryTarget {
  /** Queues a frame of a group whose outbound buffering is `intervalMs` (0 = next flush). Must not throw. */
  deliver(frame: OutboundFrame, intervalMs: number): void;
}

/**
 * The kernel's `DeliveryPort` for this gateway: maps sessions to their live connection and fans each event out.
 * Hot path: an event is encoded ONCE (a `message` with the protocol's template encoder) into one shared frame whose
 * WebSocket bytes are built once too; each recipient's connection just queues that same object. Sessions without a
 * live connection here (suspended) are skipped: their resume replays from the history.
 */
export class FanoutDelivery implements DeliveryPort {
  private readonly connections = new Map<SessionId, DeliveryTarget>();

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

  deliver(event: DeliveryEvent, to: ReadonlySet<SessionId>, except: SessionId | null, intervalMs: number): void {
    let frame: OutboundFrame | null = null;
    let count = 0;
    for (const session of to) {
      if (session === except) continue;
      const target = this.connections.get(session);
      if (target === undefined) continue;
      frame ??= encode(event);
      target.deliver(frame, intervalMs);
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
