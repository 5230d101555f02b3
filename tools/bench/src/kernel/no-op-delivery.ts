import type { DeliveryEvent, DeliveryPort, SessionId } from '@rooms-kit/core';

/**
 * NoOpDelivery: a `DeliveryPort` that writes nothing but still walks the recipient set the kernel hands it, the way a
 * real port walks its connections, and counts what it would have written. Lets the benchmark measure the kernel alone.
 */
export class NoOpDelivery implements DeliveryPort {
  /** `deliver` calls (one per event per node). */
  calls = 0;
  /** Recipients reached (the set minus `except`). */
  deliveries = 0;

  deliver(_event: DeliveryEvent, to: ReadonlySet<SessionId>, except: SessionId | null): void {
    this.calls++;
    for (const session of to) if (session !== except) this.deliveries++;
  }

  /** Sets both counters back to zero. */
  reset(): void {
    this.calls = 0;
    this.deliveries = 0;
  }
}
