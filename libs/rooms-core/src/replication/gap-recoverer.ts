import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { GroupSnapshot, ReplicaEvent } from '../port/group-log.js';
import type { GroupId, NodeId } from '../types.js';
import type { StoredMessage } from './gap-recovery.js';
import { recoveryDelayMs, recoveryEvents } from './gap-recovery.js';
import type { GroupWatch } from './group-watch.js';
import type { WatchTable } from './watch-table.js';

/** Where a recovery reads the store. */
export interface RecoverySource {
  /** The group's snapshot, read atomically; null when the group does not exist. */
  read(group: GroupId): Promise<GroupSnapshot | null>;
  /** The messages after offset `since` and up to `until`, in offset order, each with its `self` flag. */
  messages(group: GroupId, since: number, until: number): Promise<StoredMessage[]>;
}

/** Options of a `GapRecoverer`. */
export interface GapRecovererOptions {
  /** The table whose gaps it recovers (`WatchTableHooks.recover` calls `recover`). */
  table: WatchTable;
  /** This node: its own members that vanished are reported as left with `disconnect`. */
  self: NodeId;
  /** The store to read, or null while the backend is not running (the recovery then fails). */
  source(): RecoverySource | null;
  logger: Logger;
  /** Timers of the backoff between recoveries. Default the global timers. */
  clock?: Clock;
}

/**
 * GapRecoverer: recovers the gaps `WatchTable` finds (a lost event) from the store: it reads the group's snapshot and
 * the messages missed since the last delivered offset, and hands the events `recoveryEvents` derives from them back to
 * the table (`WatchTable.recovered`). Recoveries of one group in a row, without an event in order between them, wait
 * longer and longer (`recoveryDelayMs`), so an event that never fits cannot make a node hammer the store. `close` ends
 * every pending wait.
 */
export class GapRecoverer {
  private readonly clock: Clock;
  /** Pending backoff waits, ended by `close`. */
  private readonly pauses = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: GapRecovererOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Recovers the gap of `watch` (held by the table until this ends). Never rejects: a failure is logged and leaves
   * the watch stale (what arrived is delivered), and the hold is always released.
   */
  async recover(watch: GroupWatch): Promise<void> {
    const { table, logger } = this.options;
    let handedBack = false;
    try {
      const delay = recoveryDelayMs(watch.recoveries);
      if (delay > 0) await this.pause(delay);
      const source = this.options.source();
      // Events queued so far arrived before the snapshot is read (see `WatchTable.recovered`).
      const receivedBefore = watch.queue.length;
      let snapshot: GroupSnapshot | null = null;
      let events: ReplicaEvent[] | null = null;
      logger.warn({ group: watch.group, have: watch.lastV, attempt: watch.recoveries }, 'replica event gap: recovering from the store');
      try {
        if (source && table.has(watch)) {
          snapshot = await source.read(watch.group);
          const messages = snapshot && snapshot.offset > watch.offset ? await source.messages(watch.group, watch.offset, snapshot.offset) : [];
          events = recoveryEvents(watch, snapshot, messages, this.options.self);
        }
      } catch (error) {
        logger.warn({ err: error, group: watch.group }, 'gap recovery failed; delivering what arrived');
      }
      handedBack = true;
      table.recovered(watch, snapshot, events, receivedBefore);
    } catch (error) {
      logger.error({ err: error, group: watch.group }, 'gap recovery threw');
      // `recovered` always releases the hold; before it, release it here (as a failed recovery) so the group goes on.
      if (!handedBack) {
        try {
          table.recovered(watch, null, null, 0);
        } catch (again) {
          logger.error({ err: again, group: watch.group }, 'releasing a failed gap recovery threw');
        }
      }
    }
  }

  /** Ends every pending backoff wait (recoveries then fail fast). Idempotent. */
  close(): void {
    this.closed = true;
    for (const done of [...this.pauses]) done();
    this.pauses.clear();
  }

  /** Resolves after `ms`, or at once when closed. */
  private pause(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.pauses.delete(done);
        resolve();
      }, ms);
      const done = (): void => {
        this.clock.clearTimeout(timer);
        resolve();
      };
      this.pauses.add(done);
    });
  }
}
