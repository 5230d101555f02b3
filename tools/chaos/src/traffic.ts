import { RoomsClientError } from '@rooms-kit/client';
import type { ClientErrorCode } from '@rooms-kit/client';
import type { ChaosClient } from './chaos-client.js';
import type { MessageLedger } from './message-ledger.js';
import type { PhaseTally } from './phase-tally.js';

/** The SDK's own failure codes: the request's outcome is unknown (it may have been carried out), not refused. */
const CLIENT_SIDE: ReadonlySet<string> = new Set<ClientErrorCode>(['DISCONNECTED', 'TIMEOUT', 'CLOSED', 'NOT_CONNECTED', 'CONNECT_FAILED', 'PROTOCOL', 'GAP']);

/** How often the pacer looks at the clock. */
const TICK_MS = 5;
/** At most this much of the rate is caught up in one tick after the pacer fell behind (a stalled event loop). */
const MAX_CATCH_UP_SECONDS = 0.25;

/**
 * Traffic: broadcasts at a fixed total rate from the clients in turn (round robin), each with a unique payload
 * registered in the ledger. A client that is not open and in its group is passed over (the next one sends); when none
 * is, the broadcast is not sent (and not counted). Replies are recorded as they come (ok: the offset in the ledger;
 * failure: its code in the tally, with when it was sent); nothing is retried.
 */
export class Traffic {
  #timer: ReturnType<typeof setInterval> | null = null;
  #startedAt = 0;
  /** Broadcasts due so far (sent or passed over). */
  #due = 0;
  #next = 0;
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly clients: readonly ChaosClient[],
    private readonly ledger: MessageLedger,
    private readonly tally: PhaseTally,
    /** Broadcasts per second. */
    private readonly rate: number,
  ) {}

  /** Starts the pacer (no-op when running). */
  start(): void {
    if (this.#timer !== null) return;
    this.#startedAt = performance.now();
    this.#due = 0;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** Stops sending and resolves once every broadcast sent has its reply or failure (the SDK bounds each). */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #tick(): void {
    const target = Math.floor(((performance.now() - this.#startedAt) * this.rate) / 1000);
    // After a stall, catch up a bounded amount and let the rest go: a burst would measure the pacer, not the system.
    const behind = target - this.#due;
    const limit = Math.max(1, Math.ceil(this.rate * MAX_CATCH_UP_SECONDS));
    if (behind > limit) this.#due = target - limit;
    while (this.#due < target) {
      this.#due++;
      const client = this.#nextClient();
      if (client) this.#send(client);
    }
  }

  /** The next client in turn that can send, or null when none can. */
  #nextClient(): ChaosClient | null {
    for (let tries = 0; tries < this.clients.length; tries++) {
      const client = this.clients[this.#next];
      this.#next = (this.#next + 1) % this.clients.length;
      if (client?.settled) return client;
    }
    return null;
  }

  #send(client: ChaosClient): void {
    const payload = this.ledger.register(client.index, client.groupIndex);
    const sentAt = Date.now();
    const sent = client.broadcast(payload).then(
      (result) => this.ledger.acked(payload.n, result.offset),
      (error: unknown) => {
        const code = error instanceof RoomsClientError ? error.code : 'CLIENT_FAILURE';
        this.tally.error(code, sentAt);
        if (error instanceof RoomsClientError && !CLIENT_SIDE.has(error.code)) this.ledger.refused(payload.n, code);
        const message = error instanceof Error ? error.message : String(error);
        this.tally.note(code, `broadcast ${payload.n} of client ${client.index} (${client.where}) to ${client.group}, sent ${new Date(sentAt).toISOString().slice(11, 23)}: ${message}`);
      },
    );
    this.#pending.add(sent);
    void sent.finally(() => this.#pending.delete(sent));
  }
}
