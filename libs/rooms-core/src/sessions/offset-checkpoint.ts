import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { GroupId, SessionId } from '../types.js';

/** Default period of `OffsetCheckpoint` (ms). */
export const DEFAULT_OFFSET_CHECKPOINT_MS = 5000;

/** How many records one checkpoint stores at once. */
const BATCH = 64;

/** Options of an `OffsetCheckpoint`. */
export interface OffsetCheckpointOptions {
  /** Period in ms; 0 turns checkpoints off. */
  everyMs: number;
  clock: Clock;
  logger: Logger;
  /** The groups a session is in. */
  groupsOf(session: SessionId): GroupId[];
  /** The last offset this node delivered in a group (what a connected session's record stores). */
  offsetOf(group: GroupId): number;
  /** Stores the session's record with its groups' current offsets (`SessionService.save`; never rejects). */
  save(session: SessionId): Promise<void>;
  /** False while the store cannot take records (unreachable, or not settled after a loss): the round is skipped. */
  mayRun(): boolean;
}

/**
 * OffsetCheckpoint: every `everyMs`, stores again the record of each connected session whose offsets moved since its
 * last checkpoint, so that a resume after this node's crash replays only what came after the last checkpoint instead
 * of everything since the session joined (a connected session's record otherwise keeps its join-time offsets).
 * Sessions whose offsets did not move cost nothing; the others are stored `BATCH` at a time. Rounds never overlap
 * (the next is armed when one ends), and run on the injected clock. `close()` stops it; idempotent.
 *
 * The offsets stored are those delivered to the connection's port, which may be a little ahead of what a crashed
 * connection wrote; the protocol's offsets let a client see such a gap and ask `join since` (docs/protocol.md).
 */
export class OffsetCheckpoint {
  /** Connected sessions, each with what its last stored record said about its groups' offsets. */
  private readonly connected = new Map<SessionId, string>();
  private timer: unknown = null;
  private closed = false;

  constructor(private readonly options: OffsetCheckpointOptions) {}

  /** Starts the rounds (no-op when turned off or closed). */
  start(): void {
    this.arm();
  }

  /**
   * A session is connected here (registered, or resumed) and its record was just stored: its offsets are
   * checkpointed from now on, once they move.
   */
  track(session: SessionId): void {
    if (!this.closed) this.connected.set(session, this.signature(session));
  }

  /** A session is no longer connected here (suspended, ended, taken): its record is the session service's business. */
  untrack(session: SessionId): void {
    this.connected.delete(session);
  }

  /** One round now: stores the records whose offsets moved. Resolves when they are stored (failures are logged by `save`). */
  async run(): Promise<void> {
    if (this.closed || !this.options.mayRun()) return;
    const due: SessionId[] = [];
    for (const [session, last] of this.connected) {
      const now = this.signature(session);
      if (now === last) continue;
      this.connected.set(session, now);
      due.push(session);
    }
    for (let i = 0; i < due.length && !this.closed; i += BATCH) {
      await Promise.all(due.slice(i, i + BATCH).map((session) => this.options.save(session)));
    }
  }

  /** Stops the rounds and forgets every session. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    this.connected.clear();
  }

  private arm(): void {
    if (this.closed || this.options.everyMs <= 0) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      this.run()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'offset checkpoint failed'))
        .finally(() => this.arm());
    }, this.options.everyMs);
  }

  /** What the session's record would say about its groups: each group with its current offset, in order. */
  private signature(session: SessionId): string {
    return this.options
      .groupsOf(session)
      .map((group) => `${group}\u0000${this.options.offsetOf(group)}`)
      .join('\u0001');
  }
}
