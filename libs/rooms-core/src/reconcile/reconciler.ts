import type { Logger } from '../logger.js';
import type { MembershipRegistry } from '../membership-registry.js';
import type { GroupLog, GroupSnapshot } from '../port/group-log.js';
import type { LocalGroup } from '../replica/local-group.js';
import type { NodeId } from '../types.js';

/** Options of a `Reconciler`. */
export interface ReconcilerOptions {
  nodeId: NodeId;
  groups: Pick<GroupLog, 'reassert'>;
  /** Which of this node's sessions are still in a group (only those are re-asserted). */
  registry: Pick<MembershipRegistry, 'has'>;
  /** The replicas this node watches. */
  replicas(): Iterable<LocalGroup>;
  /** Tries the leaves the store refused while it was unreachable. */
  retryLeaves(): Promise<unknown>;
  /** Brings one replica in line with the store. */
  resync(local: LocalGroup): Promise<void>;
  /**
   * Stores every resumable session's record again; a session another node holds now is forgotten here as taken
   * (see `SessionService.save`).
   */
  saveSessions(): Promise<void>;
  logger: Logger;
}

/**
 * Reconciler: what a node does when its store's connection came back after a loss (`BackendHandler.onReconnected`;
 * the store may have lost its data, or this node stalled past its liveness and was taken for dead): retry the leaves it
 * refused, store the session records again, re-assert this node's groups and members (offsets never go back), and
 * resync every replica (members hear what changed, and get the messages they missed). The records go first: one
 * another node holds now was taken while nobody could tell this node, so that session is forgotten here as taken
 * and its members are not re-asserted. Never rejects: a failure is logged (the next reconnect tries again).
 */
export class Reconciler {
  constructor(private readonly options: ReconcilerOptions) {}

  /** Runs one reconciliation (see the class). */
  async reconcile(): Promise<void> {
    const { nodeId, registry } = this.options;
    try {
      await this.options.retryLeaves();
      await this.options.saveSessions();
      const mine: GroupSnapshot[] = [...this.options.replicas()].map((local) => ({
        spec: local.spec,
        members: [...local.members.values()].filter((m) => m.node === nodeId && registry.has(local.id, m.id)),
        // Offsets never go back: also those acknowledged to senders whose events were lost with the store.
        offset: Math.max(local.offset, local.acknowledged),
        v: local.v,
        everActive: local.state !== 'created',
      }));
      await this.options.groups.reassert(mine);
      for (const local of [...this.options.replicas()]) await this.options.resync(local);
    } catch (error) {
      this.options.logger.error({ err: error }, 'reconcile after the store came back failed');
    }
  }
}
