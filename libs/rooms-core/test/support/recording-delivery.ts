import type { DeliveryEvent, DeliveryPort, SessionId } from '../../src/index.js';

/** One `deliver` call as the port saw it: the event and the sessions it reached (the set minus `except`). */
export interface Delivery {
  event: DeliveryEvent;
  to: SessionId[];
  intervalMs: number;
}

/**
 * RecordingDelivery: a `DeliveryPort` that records every call, copying the recipient set at call time (the kernel's
 * set is live). For small groups only: it copies the set on every call.
 */
export class RecordingDelivery implements DeliveryPort {
  readonly log: Delivery[] = [];

  deliver(event: DeliveryEvent, to: ReadonlySet<SessionId>, except: SessionId | null, intervalMs: number): void {
    this.log.push({ event, to: [...to].filter((session) => session !== except), intervalMs });
  }

  /** Every event that reached `session`, in delivery order. */
  eventsFor(session: SessionId): DeliveryEvent[] {
    return this.log.filter((delivery) => delivery.to.includes(session)).map((delivery) => delivery.event);
  }

  /** Every event of kind `ev` that reached `session`. */
  eventsOf<E extends DeliveryEvent['ev']>(session: SessionId, ev: E): Array<Extract<DeliveryEvent, { ev: E }>> {
    return this.eventsFor(session).filter((event): event is Extract<DeliveryEvent, { ev: E }> => event.ev === ev);
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.log.length = 0;
  }
}

/** CountingDelivery: a `DeliveryPort` that only counts calls and recipients, for groups too large to record. */
export class CountingDelivery implements DeliveryPort {
  calls = 0;
  recipients = 0;

  deliver(_event: DeliveryEvent, to: ReadonlySet<SessionId>, except: SessionId | null): void {
    this.calls++;
    this.recipients += to.size - (except !== null && to.has(except) ? 1 : 0);
  }
}
