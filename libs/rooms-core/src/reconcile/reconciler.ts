import type { Actor } from 'xstate';
import { createActor } from 'xstate';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { MembershipRegistry } from '../membership-registry.js';
import type { GroupLog, ReassertedGroup } from '../port/group-log.js';
import type { LocalGroup } from '../replica/local-group.js';
import type { NodeId } from '../types.js';
import { ReconcileMachine } from './reconcile-machine.js';

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
  /** This node's groups and members are in the store again: the node may serve (see `NodeLifecycle.reasserted`). */
  reasserted(): void;
  /** Timer of the retry after a failed re-assert. */
  clock: Clock;
  logger: Logger;
}

/**
 * Reconciler: what a node does when its store's connection came back after a loss (`BackendHandler.onReconnected`;
 * the store may have lost its data, or this node stalled past its liveness and was taken for dead): retry the leaves it
 * refused, store the session records again, re-assert this node's groups and members (offsets never go back) with the
 * messages acknowledged to its senders that its replicas never got back (`UnconfirmedMessages`), report
 * `reasserted` (the node serves again), and resync every replica (members hear what changed, and get the messages
 * they missed, before any later one). The records go first: one another node holds now was taken while nobody could
 * tell this node, so that session is forgotten here as taken and its members are not re-asserted. A
 * `ReconcileMachine` runs it: a failed re-assert is tried again after `REASSERT_RETRY_MS` while the store is
 * reachable, and a reconnect during a re-assert runs it once more. Nothing here rejects: failures are logged.
 */
export class Reconciler {
  private readonly actor: Actor<typeof ReconcileMachine>;

  constructor(private readonly options: ReconcilerOptions) {
    this.actor = createActor(ReconcileMachine, {
      clock: options.clock,
      input: {
        reassert: () => this.reassert(),
        resyncAll: () => this.resyncAll(),
        reasserted: () => options.reasserted(),
        failed: (error) => options.logger.error({ err: error }, 'reconcile after the store came back failed; tried again'),
      },
    }).start();
  }

  /** The store came back after a loss, or this node learnt it was taken for dead: reconcile (again). */
  reconnected(): void {
    this.actor.send({ type: 'RECONNECTED' });
  }

  /** The store became unreachable: a reconcile in progress stops; the reconnect starts a new one. */
  storeLost(): void {
    this.actor.send({ type: 'LOST' });
  }

  /** Ends it: nothing more runs or is retried. Idempotent. */
  close(): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send({ type: 'CLOSE' });
  }

  private async reassert(): Promise<void> {
    const { nodeId, registry } = this.options;
    await this.options.retryLeaves();
    await this.options.saveSessions();
    const mine: ReassertedGroup[] = [...this.options.replicas()].map((local) => ({
      spec: local.spec,
      members: [...local.members.values()].filter((m) => m.node === nodeId && registry.has(local.id, m.id)),
      // Offsets never go back: also those acknowledged to senders whose events were lost with the store.
      offset: Math.max(local.offset, local.acknowledged),
      v: local.v,
      everActive: local.state !== 'created',
      // Acknowledged means delivered: what the store may have lost before publishing it is written back.
      messages: local.unconfirmed?.all.pending(local) ?? [],
    }));
    await this.options.groups.reassert(mine);
  }

  private async resyncAll(): Promise<void> {
    for (const local of [...this.options.replicas()]) {
      // A failure is logged by the resync, which tries that replica again by itself.
      await this.options.resync(local).catch(() => undefined);
    }
  }
}
