import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { GroupLog } from '../port/group-log.js';
import type { GroupMessage, NodeId } from '../types.js';
import type { LocalGroup } from './local-group.js';
import type { ReplicaApplier, ReplicaHost } from './replica-applier.js';

/** How long an operation waits for the event of its own change before it resyncs the replica instead. */
export const EVENT_WAIT_MS = 5000;

/** Options of a `ReplicaResync`. */
export interface ReplicaResyncOptions {
  nodeId: NodeId;
  /** Where snapshots (a re-watch) and missed messages (the history) are read. */
  groups: Pick<GroupLog, 'watch' | 'history'>;
  /** Which replica is current (a replica replaced or forgotten meanwhile is left alone). */
  host: Pick<ReplicaHost, 'watched'>;
  /** Applies the differences it finds, with the events local members get for them. */
  applier: Pick<ReplicaApplier, 'applyJoined' | 'applyLeft' | 'applyDiscarded' | 'deliver'>;
  /** Timer of the bounded wait in `settle`. */
  clock: Clock;
  logger: Logger;
}

/**
 * ReplicaResync: brings a replica in line with the store when events may have been missed: after the store came
 * back, after a discard that found the group not empty, and when an operation's own event does not arrive in time
 * (`settle`). Members get the `joined`/`left` events of the differences and, in order, the messages they missed.
 */
export class ReplicaResync {
  constructor(private readonly options: ReplicaResyncOptions) {}

  /** Re-reads the group's snapshot (watching it again) and applies what the replica missed. */
  async resync(local: LocalGroup): Promise<void> {
    const { applier, host, nodeId } = this.options;
    const snapshot = await this.options.groups.watch(local.id);
    if (host.watched.get(local.id) !== local) return;
    if (!snapshot) {
      applier.applyDiscarded(local, 'empty');
      return;
    }
    const fresh = new Map(snapshot.members.map((m) => [m.id, m]));
    for (const member of [...local.members.values()]) {
      if (!fresh.has(member.id)) applier.applyLeft(local, member, member.node === nodeId ? 'disconnect' : 'node-down', undefined);
    }
    for (const member of fresh.values()) if (!local.members.has(member.id)) applier.applyJoined(local, member);
    local.spec = snapshot.spec;
    // Messages the replica missed (events lost or skipped while re-watching) come from the history, in order.
    if (snapshot.offset > local.offset) await this.deliverGap(local, snapshot.offset);
    local.offset = Math.max(local.offset, snapshot.offset);
    local.v = Math.max(local.v, snapshot.v);
    local.release();
  }

  /**
   * Waits until the event `v` of this node's own change was applied; when it does not come within
   * `EVENT_WAIT_MS` (an event lost on the way), resyncs the replica from the store instead of waiting forever.
   */
  async settle(local: LocalGroup, v: number): Promise<void> {
    if (local.v >= v) return;
    const { clock } = this.options;
    let timer: unknown = null;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = clock.setTimeout(() => resolve(true), EVENT_WAIT_MS);
    });
    const late = await Promise.race([local.applied(v).then(() => false), timedOut]);
    clock.clearTimeout(timer);
    if (late && this.options.host.watched.get(local.id) === local) {
      this.options.logger.warn({ group: local.id, v }, 'own event did not arrive; resyncing the replica');
      await this.resync(local);
    }
  }

  private async deliverGap(local: LocalGroup, upTo: number): Promise<void> {
    const from = local.offset;
    let history: { messages: GroupMessage[]; complete: boolean };
    try {
      history = await this.options.groups.history(local.id, from);
    } catch (error) {
      this.options.logger.warn({ err: error, group: local.id }, 'could not read the history to fill a gap');
      return;
    }
    if (!history.complete) this.options.logger.warn({ group: local.id, from, upTo }, 'history no longer holds every missed message');
    for (const message of history.messages) {
      if (message.offset <= local.offset || message.offset > upTo || this.options.host.watched.get(local.id) !== local) continue;
      local.offset = message.offset;
      this.options.applier.deliver(local, { ev: 'message', group: local.id, from: message.from, data: message.data, offset: message.offset }, message.from);
    }
  }
}
