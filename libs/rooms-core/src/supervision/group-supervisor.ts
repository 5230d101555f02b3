import { RoomsError } from '@rooms-kit/contract';
import { createActor } from 'xstate';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { MembershipRegistry } from '../membership-registry.js';
import type { NodeOpenness } from '../node/node-lifecycle.js';
import type { GroupLog, GroupSnapshot } from '../port/group-log.js';
import { LocalGroup } from '../replica/local-group.js';
import type { GroupId, GroupSpec, GroupState } from '../types.js';
import type { CreationLimits } from './creation-quota.js';
import { CreationQuota } from './creation-quota.js';
import type { GroupLifecycleListener } from './group-machine.js';
import { GroupMachine } from './group-machine.js';

/** The `meta` of groups created without one: shared (and frozen) rather than an empty object per group. */
export const NO_META: Record<string, unknown> = Object.freeze({});

/** A tick an embedding program asked for at create time (`CreateRequest.tick`). */
export interface GroupTick {
  everyMs: number;
  onTick: (group: GroupId) => void;
}

/** Options of a `GroupSupervisor`. */
export interface GroupSupervisorOptions {
  /** The group log (watch, unwatch, discard after a grace, create of static groups). */
  groups: Pick<GroupLog, 'watch' | 'unwatch' | 'discard' | 'createGroup'>;
  /** Which sessions of this node are in a group (a group they are in stays watched). */
  registry: Pick<MembershipRegistry, 'sessionsOf'>;
  /** Nothing is adopted once the node is closing: an adoption that ends after `close()` starts no actor. */
  node: NodeOpenness;
  clock: Clock;
  logger: Logger;
  /** The grace of groups created without a `ttlMs`. */
  emptyGraceMs: number;
  /** Brings a replica in line with the store (after a discard that found the group not empty). */
  resync(local: LocalGroup): Promise<void>;
  /** The bounds on the groups this node supervises and on those each session created (default none). */
  limits?: CreationLimits;
}

/**
 * GroupSupervisor: the groups this node watches, each a `LocalGroup` replica with one `GroupMachine` actor. It watches
 * groups when an operation or an orphan needs them (`acquire`, `hold`), starts and stops their actors, runs the
 * embedder's ticks, discards a group whose grace expired, and reports to each actor whether anything of this node
 * still holds the group (`IDLE`/`BUSY`): the actor decides when the node stops watching it (`onReleased`).
 * The hot path (delivering a broadcast) makes no call here: it only reads `watched`.
 */
export class GroupSupervisor {
  private readonly groups = new Map<GroupId, LocalGroup>();
  /** The replicas of the groups this node watches, by id (read-only; the event and broadcast paths read it). */
  readonly watched: ReadonlyMap<GroupId, LocalGroup> = this.groups;
  /** Watches in flight, so concurrent operations on a group nobody watches yet share one. */
  private readonly acquiring = new Map<GroupId, Promise<LocalGroup>>();
  private readonly ticks = new Map<GroupId, GroupTick>();
  /** The bounds on `create`: counts the watched groups, and the groups each session created while they are watched. */
  readonly creations: CreationQuota;
  private readonly listener: GroupLifecycleListener = {
    onGraceExpired: (group) => void this.expire(group),
    onTick: (group) => this.tick(group),
    onReleased: (group) => this.release(group),
  };

  constructor(private readonly options: GroupSupervisorOptions) {
    this.creations = new CreationQuota(options.limits ?? {}, () => this.groups.size);
  }

  /** The latest offset of a watched group, 0 for others (where a session record's replay starts). */
  offsetOf(group: GroupId): number {
    return this.groups.get(group)?.offset ?? 0;
  }

  /**
   * The local replica of a group with one more operation counted as in flight (`pending`), so it is not released
   * before the caller's `done(local)`. Re-acquires when the replica was replaced or released while being watched.
   */
  async hold(group: GroupId): Promise<LocalGroup> {
    for (;;) {
      const local = await this.acquire(group);
      if (this.groups.get(group) === local) {
        local.pending++;
        this.review(local);
        return local;
      }
    }
  }

  /** Ends an operation counted by `hold`. */
  done(local: LocalGroup): void {
    local.pending--;
    this.review(local);
  }

  /** The local replica of a group, watching it first when needed. Rejects `GROUP_NOT_FOUND`. */
  async acquire(group: GroupId): Promise<LocalGroup> {
    const known = this.groups.get(group);
    if (known) return known;
    let pending = this.acquiring.get(group);
    if (!pending) {
      pending = this.options.groups
        .watch(group)
        .then((snapshot) => {
          if (!snapshot) throw new RoomsError('GROUP_NOT_FOUND');
          return this.groups.get(group) ?? this.adopt(snapshot);
        })
        .finally(() => this.acquiring.delete(group));
      this.acquiring.set(group, pending);
    }
    return pending;
  }

  /**
   * Starts supervising a group from its snapshot (replacing a stale replica), with the embedder's `tick` if any.
   * Throws `UNAVAILABLE` once the node is closing: nothing is started after `close()`.
   */
  adopt(snapshot: GroupSnapshot, tick?: GroupTick): LocalGroup {
    this.options.node.assertOpen();
    const stale = this.groups.get(snapshot.spec.id);
    if (stale) this.forget(stale);
    const local = new LocalGroup(snapshot);
    this.groups.set(local.id, local);
    if (tick) this.ticks.set(local.id, tick);
    const { clock, emptyGraceMs } = this.options;
    const actor = createActor(GroupMachine, {
      clock,
      input: {
        id: local.id,
        static: snapshot.spec.static,
        graceMs: snapshot.spec.ttlMs ?? emptyGraceMs,
        size: snapshot.members.length,
        everActive: snapshot.everActive,
        tickMs: tick?.everyMs ?? 0,
        listener: this.listener,
        clock,
      },
    });
    local.actor = actor;
    actor.start();
    return local;
  }

  /**
   * Takes over the lifecycle of groups a dead node left empty (this node cleaned up after it): watching is enough,
   * the replica starts empty (`empty-grace`) and its grace ends in a discard.
   */
  adoptOrphans(groups: readonly GroupId[]): void {
    for (const group of groups) {
      this.acquire(group).catch((error: unknown) => {
        if (error instanceof RoomsError && error.code === 'GROUP_NOT_FOUND') return;
        // A close while the watch was in flight ends the adoption on purpose.
        if (this.options.node.isOpen) this.options.logger.warn({ err: error, group }, 'could not adopt an orphaned group');
      });
    }
  }

  /** Creates a static group, or watches it when another node created it first. */
  async ensureStatic(id: GroupId): Promise<void> {
    const spec: GroupSpec = { id, allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: NO_META, static: true };
    try {
      this.adopt(await this.options.groups.createGroup(spec, null));
    } catch (error) {
      if (!(error instanceof RoomsError) || error.code !== 'GROUP_EXISTS') throw error;
      await this.acquire(id);
    }
  }

  /** The replica's membership changed: its actor gets the new size and whether anything here still holds it. */
  sizeChanged(local: LocalGroup): void {
    local.actor?.send({ type: 'SIZE', size: local.members.size });
    this.review(local);
  }

  /**
   * Sessions of this node left these groups without a replica event saying so (a session forgotten as taken after
   * the event that moved its member had come): each actor learns whether anything here still holds its group.
   */
  localMembersLeft(groups: Iterable<GroupId>): void {
    for (const group of groups) {
      const local = this.groups.get(group);
      if (local) this.review(local);
    }
  }

  /**
   * Stops supervising a group: stops its actor, forgets its replica, its tick and its watch's waiters; the group no
   * longer counts against the session that created it.
   */
  forget(local: LocalGroup): void {
    if (this.groups.get(local.id) === local) {
      this.groups.delete(local.id);
      this.creations.forget(local.id);
    }
    const actor = local.actor;
    local.actor = null;
    if (actor && actor.getSnapshot().status === 'active') actor.send({ type: 'DISCARDED' });
    actor?.stop();
    this.ticks.delete(local.id);
    local.releaseAll();
  }

  /** Counts of the watched groups by client-visible state. */
  stats(): Record<GroupState, number> {
    const counts: Record<GroupState, number> = { created: 0, active: 0, 'empty-grace': 0 };
    for (const local of this.groups.values()) counts[local.state]++;
    return counts;
  }

  /** Forgets every group (their actors and ticks stop). Adoptions still in flight then find the node closed. */
  close(): void {
    for (const local of [...this.groups.values()]) this.forget(local);
    this.ticks.clear();
  }

  /**
   * Tells the actor whether anything of this node holds the group: a local member or an operation in flight. Sent
   * only where it can change the actor's state (`IDLE` to an `active` group, `BUSY` to an `unwatching` one), so the
   * common case (a group with local members) sends nothing.
   */
  private review(local: LocalGroup): void {
    const actor = local.actor;
    if (!actor) return;
    const idle = local.pending === 0 && this.options.registry.sessionsOf(local.id).size === 0;
    const value = actor.getSnapshot().value;
    if (idle ? value === 'active' : value === 'unwatching') actor.send({ type: idle ? 'IDLE' : 'BUSY' });
  }

  /** The actor released the group after its unwatch delay: forget it and stop watching it. */
  private release(group: GroupId): void {
    const local = this.groups.get(group);
    if (!local) return;
    this.forget(local);
    this.options.groups.unwatch(group).catch((error: unknown) => this.options.logger.warn({ err: error, group }, 'unwatch failed'));
  }

  private tick(group: GroupId): void {
    try {
      this.ticks.get(group)?.onTick(group);
    } catch (error) {
      this.options.logger.error({ err: error, group }, 'tick callback threw');
    }
  }

  /** The group's grace expired: discard it if it is still empty, else catch up with whoever joined meanwhile. */
  private async expire(group: GroupId): Promise<void> {
    const local = this.groups.get(group);
    if (!local) return;
    try {
      const discarded = await this.options.groups.discard(group, { ifEmpty: true, reason: 'empty' });
      if (!discarded && this.groups.get(group) === local) {
        await this.options.resync(local);
        // Someone joined and left again meanwhile: the actor's grace is spent, so start another one.
        if (this.groups.get(group) === local && local.members.size === 0) local.actor?.send({ type: 'RETRY' });
      }
    } catch (error) {
      this.options.logger.warn({ err: error, group }, 'discard after grace failed; retrying after another grace');
      local.actor?.send({ type: 'RETRY' });
    }
  }
}
