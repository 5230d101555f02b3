import type { Actor } from 'xstate';
import type { GroupSnapshot, ReplicaEvent } from '../port/group-log.js';
import type { GroupMachine } from '../supervision/group-machine.js';
import { visibleState } from '../supervision/group-machine.js';
import type { GroupUnconfirmed } from './unconfirmed-messages.js';
import type { GroupId, GroupSpec, GroupState, MemberInfo, NodeId, SessionId } from '../types.js';

/**
 * Most events a replica holds while a resync reads what it missed (see `LocalGroup.held`). Past it the held events are
 * delivered at once, without the missed messages before them (the members see a gap, which `join` with `since`
 * fills), so that no group can make a node hold unbounded memory for a slow or failing store.
 */
export const HELD_EVENTS_LIMIT = 10_000;

/**
 * LocalGroup: this node's replica of a group it watches: the spec, every member (all nodes), the latest offset and
 * the version of the last applied event, plus the lifecycle actor (which also decides when the node stops watching
 * it). Mutated only by the node's event application and its supervisor.
 */
export class LocalGroup {
  readonly id: GroupId;
  spec: GroupSpec;
  readonly members = new Map<SessionId, MemberInfo>();
  offset: number;
  /** The highest offset the store acknowledged to a publish from this node (its event may not have arrived). */
  acknowledged = 0;
  /** Messages acknowledged to this node's senders whose events this replica has not applied yet (see `UnconfirmedMessages`). */
  unconfirmed: GroupUnconfirmed | null = null;
  v: number;
  actor: Actor<typeof GroupMachine> | null = null;
  /** Operations of this node in flight on the group (the supervisor reports it `BUSY` to the actor while > 0). */
  pending = 0;
  /**
   * Events received while messages the members missed are being read from the store (a resync, or a message whose
   * offset skipped some): applied in order after the missed ones were delivered, so a live member sees every offset
   * once and in order. Null while events are applied as they come.
   */
  held: ReplicaEvent[] | null = null;
  private waiters: Array<{ v: number; resolve: () => void }> | null = null;

  constructor(snapshot: GroupSnapshot) {
    this.id = snapshot.spec.id;
    this.spec = snapshot.spec;
    this.offset = snapshot.offset;
    this.v = snapshot.v;
    for (const member of snapshot.members) this.members.set(member.id, member);
  }

  /** The client-visible lifecycle state (`active` when the actor is not running yet). */
  get state(): GroupState {
    return (this.actor && visibleState(this.actor.getSnapshot().value)) ?? 'active';
  }

  /** Ids of the nodes that hold members, sorted. */
  nodes(): NodeId[] {
    const nodes = new Set<NodeId>();
    for (const member of this.members.values()) nodes.add(member.node);
    return [...nodes].sort();
  }

  /** Resolves once the event with version `v` (or a later one) has been applied. */
  applied(v: number): Promise<void> {
    if (this.v >= v) return Promise.resolve();
    return new Promise((resolve) => (this.waiters ??= []).push({ v, resolve }));
  }

  /** Resolves the waiters up to the current version (after an event or a resync). */
  release(): void {
    if (!this.waiters) return;
    const remaining = this.waiters.filter((waiter) => {
      if (waiter.v > this.v) return true;
      waiter.resolve();
      return false;
    });
    this.waiters = remaining.length > 0 ? remaining : null;
  }

  /** Resolves every waiter (the group is gone; the waiting operation re-checks what it needs). */
  releaseAll(): void {
    for (const waiter of this.waiters ?? []) waiter.resolve();
    this.waiters = null;
  }
}

/** The lifecycle state a snapshot implies, for groups this node does not watch. */
export function stateOfSnapshot(snapshot: GroupSnapshot): GroupState {
  if (snapshot.members.length > 0 || (snapshot.spec.static && !snapshot.everActive)) return 'active';
  return snapshot.everActive ? 'empty-grace' : 'created';
}
