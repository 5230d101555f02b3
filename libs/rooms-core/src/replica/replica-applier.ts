import type { DeliveryEvent, DeliveryPort } from '../delivery.js';
import type { Logger } from '../logger.js';
import type { MembershipRegistry } from '../membership-registry.js';
import type { ReplicaEvent } from '../port/group-log.js';
import type { DiscardReason, GroupId, LeaveReason, MemberInfo, NodeId, SessionId } from '../types.js';
import type { LocalGroup } from './local-group.js';
import { HELD_EVENTS_LIMIT } from './local-group.js';

/** Most groups whose events are kept from before their adoption (see `ReplicaApplier.catchUp`); the oldest go first. */
export const EARLY_GROUPS_LIMIT = 256;
/** Most events kept per group from before its adoption; later ones are dropped (the replica then sees a gap). */
export const EARLY_EVENTS_LIMIT = 1000;

/** What the applier needs of the group supervision. */
export interface ReplicaHost {
  /** The replicas of the groups this node watches, by id. */
  readonly watched: ReadonlyMap<GroupId, LocalGroup>;
  /** The replica's membership changed (its actor gets the size and whether anything here still holds it). */
  sizeChanged(local: LocalGroup): void;
  /** The group is gone: stop supervising it. */
  forget(local: LocalGroup): void;
}

/** Options of a `ReplicaApplier`. */
export interface ReplicaApplierOptions {
  nodeId: NodeId;
  registry: MembershipRegistry;
  delivery: DeliveryPort;
  logger: Logger;
  host: ReplicaHost;
  /** Takes a member out of a group in the store (retried until the store takes it). */
  leaveInStore(group: GroupId, session: SessionId, reason: LeaveReason): Promise<void>;
  /**
   * Stores a session's record again (its groups changed, or another node may have taken it: then the session is
   * forgotten here as taken). Never rejects.
   */
  saveSession(session: SessionId): Promise<void>;
  /** Payload of `left` for members that disconnected or whose node died (`NodeManagerOptions.disconnectMessage`). */
  disconnectMessage?: (member: MemberInfo, group: GroupId, reason: 'disconnect' | 'node-down') => unknown;
  /** Payload of `rejoined` events (`NodeManagerOptions.rejoinMessage`). */
  rejoinMessage?: (member: MemberInfo, group: GroupId) => unknown;
  /**
   * A message skipped offsets (they were lost on the way): the replica now holds its events (`LocalGroup.held`)
   * until a resync delivered the missed messages and called `releaseHeld`. Must not throw.
   */
  gapFound(local: LocalGroup): void;
}

/**
 * ReplicaApplier: applies the group events the backend replicates (`BackendHandler.onEvent`) to this node's replicas
 * (`LocalGroup`) and membership registry, and hands member events to the delivery port: one `deliver` call per event
 * with the group's live local member set, never one per member (the broadcast hot path). Events of groups not watched
 * here, and events at or below a replica's version, are ignored. Never throws into the backend: a failure is logged.
 * Offsets reach members once and in order with none skipped: a message whose offset skips some holds the replica's
 * events and asks for a resync (`gapFound`), which delivers the missed ones first; held events follow
 * (`releaseHeld`).
 * Events of a group not adopted yet are kept (`catchUp`): the backend sends a group's events from the moment it read
 * the snapshot, and the kernel adopts that snapshot a few microtasks later; an event in between (a discard, a join)
 * must not be lost.
 */
export class ReplicaApplier {
  // The parts every event touches, held directly (the broadcast path reads them once per event).
  private readonly host: ReplicaHost;
  private readonly watched: ReadonlyMap<GroupId, LocalGroup>;
  private readonly registry: MembershipRegistry;
  private readonly delivery: DeliveryPort;
  /** Per group not watched here (yet), the events received for it, in order (see `catchUp`). */
  private readonly early = new Map<GroupId, ReplicaEvent[]>();

  constructor(private readonly options: ReplicaApplierOptions) {
    this.host = options.host;
    this.watched = options.host.watched;
    this.registry = options.registry;
    this.delivery = options.delivery;
  }

  /** Applies one replicated event: the node's `BackendHandler.onEvent` itself (a bound function, so no wrapper). */
  readonly onEvent = (event: ReplicaEvent): void => {
    try {
      this.apply(event);
    } catch (error) {
      this.options.logger.error({ err: error, event: event.type, group: event.group }, 'failed to apply a replica event');
    }
  };

  /**
   * Applies to a replica just adopted the events of its group received between the read of its snapshot and its
   * adoption (those the snapshot reflects are dropped by their version). Called by the operations right after they
   * watched a group, and by the next event of the group; a no-op when there are none.
   */
  catchUp(local: LocalGroup): void {
    if (this.early.size === 0) return;
    const events = this.early.get(local.id);
    if (!events) return;
    this.early.delete(local.id);
    for (const event of events) {
      // Only events that follow the replica's version: one past a gap is no change of this snapshot's (a group of the
      // same id discarded and created again since), and the rest is dropped with it.
      if (this.watched.get(local.id) !== local || event.v > local.v + 1) return;
      this.onEvent(event);
    }
  }

  /** Adds (or moves back to its node) a member and tells the local members it `joined`. */
  applyJoined(local: LocalGroup, member: MemberInfo): void {
    const { nodeId } = this.options;
    const registry = this.registry;
    const known = local.members.get(member.id);
    local.members.set(member.id, member);
    if (member.node === nodeId && !registry.add(local.id, member.id)) {
      // The session ended while its join was in flight: take the member out again.
      void this.options.leaveInStore(local.id, member.id, 'disconnect');
    }
    // A member this replica already shows on that node is being re-asserted after the store lost it: the local
    // members knew it all along, so they are not told it joined.
    if (known?.node !== member.node) {
      const event: DeliveryEvent = { ev: 'joined', group: local.id, member };
      if (member.data !== undefined) event.data = member.data;
      this.deliver(local, event, member.id);
    }
    this.host.sizeChanged(local);
  }

  /** Removes a member and tells the local members it `left` (with the custom disconnect payload where it applies). */
  applyLeft(local: LocalGroup, member: MemberInfo, reason: LeaveReason, data: unknown): void {
    local.members.delete(member.id);
    if (member.node === this.options.nodeId) this.registry.remove(local.id, member.id);
    const event: DeliveryEvent = { ev: 'left', group: local.id, member, reason };
    const payload = data !== undefined ? data : this.customDisconnect(member, local.id, reason);
    if (payload !== undefined) event.data = payload;
    this.deliver(local, event, member.id);
    this.host.sizeChanged(local);
  }

  /** The group is gone: tells the local members when an admin discarded it, updates their records, forgets it. */
  applyDiscarded(local: LocalGroup, reason: DiscardReason): void {
    local.unconfirmed?.all.forget(local);
    if (reason === 'admin') this.deliver(local, { ev: 'discarded', group: local.id, reason: 'admin' }, null);
    for (const session of this.registry.dropGroup(local.id)) void this.options.saveSession(session);
    this.host.forget(local);
  }

  /** Hands `event` to the delivery port for the group's local members except `except` (skipped when nobody is left). */
  deliver(local: LocalGroup, event: DeliveryEvent, except: SessionId | null): void {
    const to = this.registry.sessionsOf(local.id);
    if (to.size === 0 || (to.size === 1 && except !== null && to.has(except))) return;
    try {
      this.delivery.deliver(event, to, except, local.spec.intervalMs);
    } catch (error) {
      this.options.logger.error({ err: error, group: local.id }, 'delivery port threw');
    }
  }

  /**
   * Ends the hold of a replica: applies its held events in order (those the resync already covered are dropped by
   * their version). A gap among them holds the replica again, with the rest of them.
   */
  releaseHeld(local: LocalGroup): void {
    const held = local.held;
    if (held === null) return;
    local.held = null;
    for (const event of held) this.onEvent(event);
  }

  private apply(event: ReplicaEvent, holdOnGap = true): void {
    const local = this.watched.get(event.group);
    if (!local) {
      this.keepEarly(event);
      return;
    }
    if (this.early.size > 0) this.catchUp(local);
    if (event.v <= local.v) return;
    if (local.held !== null) {
      this.hold(local, event);
      return;
    }
    if (holdOnGap && event.type === 'message' && event.offset > local.offset + 1) {
      this.options.logger.warn({ group: event.group, have: local.offset, got: event.offset }, 'messages missed: holding the group until they are read');
      local.held = [event];
      this.options.gapFound(local);
      return;
    }
    if (event.v > local.v + 1) this.options.logger.warn({ group: event.group, have: local.v, got: event.v }, 'replica event gap');
    local.v = event.v;
    switch (event.type) {
      case 'message': {
        // A message written back after a store lost it (`GroupLog.reassert`), applied here already: old.
        if (event.offset <= local.offset) break;
        local.offset = event.offset;
        if (local.unconfirmed !== null && local.unconfirmed.messages.length > 0) local.unconfirmed.confirm(event.offset);
        const message: DeliveryEvent = { ev: 'message', group: event.group, from: event.from, data: event.data, offset: event.offset };
        this.deliver(local, message, event.self ? null : event.from);
        break;
      }
      case 'joined':
        this.applyJoined(local, event.member);
        break;
      case 'left':
        // Our own connected member reported gone with its node: this node was wrongly declared dead (a stall).
        // It keeps the member; re-asserting (the heartbeat found itself fenced) puts it back in the store.
        if (event.reason === 'node-down' && event.member.node === this.options.nodeId && this.registry.has(local.id, event.member.id)) break;
        this.applyLeft(local, event.member, event.reason, event.data);
        break;
      case 'rejoined':
        this.applyRejoined(local, event.member, event.previousNode);
        break;
      case 'discarded':
        this.applyDiscarded(local, event.reason);
        break;
    }
    local.release();
  }

  /** Keeps an event of a group not watched here: its watch may be on its way to adoption (see `catchUp`). */
  private keepEarly(event: ReplicaEvent): void {
    const kept = this.early.get(event.group);
    if (kept) {
      if (kept.length < EARLY_EVENTS_LIMIT) kept.push(event);
      return;
    }
    if (this.early.size >= EARLY_GROUPS_LIMIT) this.early.delete(this.early.keys().next().value as GroupId);
    this.early.set(event.group, [event]);
  }

  /** Holds an event behind a resync; past `HELD_EVENTS_LIMIT`, delivers every held event now, missed ones or not. */
  private hold(local: LocalGroup, event: ReplicaEvent): void {
    const held = local.held as ReplicaEvent[];
    if (held.length < HELD_EVENTS_LIMIT) {
      held.push(event);
      return;
    }
    this.options.logger.error({ group: local.id, held: held.length }, 'too many events held behind a resync: delivering them without the missed messages');
    local.held = null;
    held.push(event);
    for (const next of held) {
      try {
        this.apply(next, false);
      } catch (error) {
        this.options.logger.error({ err: error, event: next.type, group: next.group }, 'failed to apply a replica event');
      }
    }
  }

  /**
   * Puts a member back (a resume, or its node's re-assert) and tells the local members it `rejoined`, except when the
   * store held it on no node (`previousNode` null) while this replica still shows it on that very node: this replica
   * never saw it leave (its own node, which ignores the `node-down` of its live members, or any node after the store
   * lost its data), so its members have nothing to hear.
   */
  private applyRejoined(local: LocalGroup, member: MemberInfo, previousNode: NodeId | null): void {
    const { nodeId } = this.options;
    const registry = this.registry;
    const neverLeftHere = previousNode === null && local.members.get(member.id)?.node === member.node;
    local.members.set(member.id, member);
    if (member.node === nodeId) {
      if (!registry.add(local.id, member.id)) void this.options.leaveInStore(local.id, member.id, 'disconnect');
    } else if (previousNode === nodeId) {
      registry.remove(local.id, member.id);
    } else if (registry.has(local.id, member.id)) {
      // Resumed elsewhere from a member the store no longer had on this node: the node was taken for dead (a stall)
      // and nobody could tell it. Saving the record asks the store, and ends the session here as taken if it is.
      void this.options.saveSession(member.id);
    }
    if (!neverLeftHere) {
      const event: DeliveryEvent = { ev: 'rejoined', group: local.id, member };
      const payload = this.options.rejoinMessage?.(member, local.id);
      if (payload !== undefined) event.data = payload;
      this.deliver(local, event, member.id);
    }
    this.host.sizeChanged(local);
  }

  private customDisconnect(member: MemberInfo, group: GroupId, reason: LeaveReason): unknown {
    if (reason !== 'disconnect' && reason !== 'node-down') return undefined;
    try {
      return this.options.disconnectMessage?.(member, group, reason);
    } catch (error) {
      this.options.logger.error({ err: error, group }, 'disconnectMessage threw');
      return undefined;
    }
  }
}
