import { RoomsError } from '@rooms-kit/contract';
import type { Actor } from 'xstate';
import { createActor } from 'xstate';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { GroupLog } from '../port/group-log.js';
import type { GroupId, LeaveReason, SessionId } from '../types.js';
import { LeaveRetryMachine } from './leave-retry-machine.js';

interface RefusedLeave {
  group: GroupId;
  session: SessionId;
  reason: LeaveReason;
}

/** Options of a `LeaveRetrier`. */
export interface LeaveRetrierOptions {
  groups: Pick<GroupLog, 'leave'>;
  logger: Logger;
  /** Timer of the retry delay. */
  clock: Clock;
}

/**
 * LeaveRetrier: takes members out of groups in the store for the kernel's own reasons (a session ended, a join that
 * raced the end of its session), and keeps the leaves the store refused (unreachable, a timeout) until it takes them:
 * a `LeaveRetryMachine` decides when they are tried again, and `retryAll` tries them at once (after a reconnect).
 * `close` ends the retries and forgets what was refused.
 */
export class LeaveRetrier {
  /** Refused leaves, by group and session (a second refusal of the same leave replaces the first). */
  private readonly refused = new Map<string, RefusedLeave>();
  private readonly actor: Actor<typeof LeaveRetryMachine>;

  constructor(private readonly options: LeaveRetrierOptions) {
    this.actor = createActor(LeaveRetryMachine, { clock: options.clock, input: { retry: () => this.retryAll() } }).start();
  }

  /** Leaves `group` in the store; never rejects. A leave of a missing group is done; a refused one is retried. */
  async leave(group: GroupId, session: SessionId, reason: LeaveReason): Promise<void> {
    try {
      await this.options.groups.leave(group, session, reason);
    } catch (error) {
      if (error instanceof RoomsError && error.code === 'GROUP_NOT_FOUND') return;
      if (this.actor.getSnapshot().status !== 'active') return;
      this.options.logger.warn({ err: error, group, session }, 'leave refused by the store; retried until it takes it');
      this.refused.set(`${group}\u0000${session}`, { group, session, reason });
      this.actor.send({ type: 'QUEUED' });
    }
  }

  /** Tries every refused leave once, one after the other; resolves whether some were refused again. */
  async retryAll(): Promise<boolean> {
    for (const [key, leave] of [...this.refused]) {
      this.refused.delete(key);
      await this.leave(leave.group, leave.session, leave.reason);
    }
    return this.refused.size > 0;
  }

  /** Ends the retries and forgets the refused leaves. Idempotent. */
  close(): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'CLOSE' });
    this.refused.clear();
  }
}
