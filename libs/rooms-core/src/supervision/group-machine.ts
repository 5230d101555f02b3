import { enqueueActions, fromCallback, setup } from 'xstate';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { GroupId, GroupState } from '../types.js';

/**
 * How long a node keeps watching an active group after nothing of its own holds it any more (no local member, no
 * operation in flight): a member that comes back soon (join/leave churn, a reconnect) finds the group still watched
 * instead of paying a subscribe and a snapshot read again.
 */
export const UNWATCH_DELAY_MS = 2000;

/** What a group actor reports to the node that supervises it. One object serves every actor of a node. */
export interface GroupLifecycleListener {
  /** The group stayed empty (in `created` or `empty-grace`) for its whole grace: the node should discard it. */
  onGraceExpired(group: GroupId): void;
  /** The group's tick fired (only for groups created with a tick). */
  onTick(group: GroupId): void;
  /**
   * The group stayed `unwatching` for the whole unwatch delay and the actor ended (`released`, final): the node
   * should forget its replica and stop watching it. Only reported after `IDLE`, so nodes that never send it may omit it.
   */
  onReleased?(group: GroupId): void;
}

/** Input of a group actor. */
export interface GroupMachineInput {
  id: GroupId;
  /** Static groups never leave `active`/`empty-grace`, never expire and are never released. */
  static: boolean;
  /** How long the group may stay empty before it expires (its `ttl`, else the node's empty grace). */
  graceMs: number;
  /** Members at start (from the store's snapshot). */
  size: number;
  /** Whether the group already had members (an empty group that had some starts in `empty-grace`). */
  everActive: boolean;
  /** Tick period in ms; 0 = no tick. A group with a tick is never released (its node runs the tick). */
  tickMs: number;
  listener: GroupLifecycleListener;
  /** Drives the tick (lifecycle delays use the actor's own clock). Default the global timers. */
  clock?: Clock;
}

interface GroupContext {
  id: GroupId;
  static: boolean;
  everActive: boolean;
  graceMs: number;
  /** Members at start only (decides the first state); afterwards each `SIZE` event carries the count. */
  startSize: number;
  tickMs: number;
  listener: GroupLifecycleListener;
  clock: Clock;
}

/** Events a group actor accepts. */
export type GroupMachineEvent =
  /** The replicated member count changed. */
  | { type: 'SIZE'; size: number }
  /** The store discarded the group (grace expiry decided by some node, or an admin). */
  | { type: 'DISCARDED' }
  /** A discard attempt after expiry failed (store unreachable): wait a whole grace again, then retry. */
  | { type: 'RETRY' }
  /** Nothing of the supervising node holds the group any more: no local member, no operation of its own in flight. */
  | { type: 'IDLE' }
  /** Something of the supervising node holds the group again (after `IDLE`). */
  | { type: 'BUSY' };

const ticker = fromCallback<{ type: 'noop' }, { everyMs: number; onTick: () => void; clock: Clock }>(({ input }) => {
  const { clock, everyMs, onTick } = input;
  let handle = clock.setTimeout(function tick() {
    handle = clock.setTimeout(tick, everyMs);
    onTick();
  }, everyMs);
  return () => clock.clearTimeout(handle);
});

/**
 * GroupMachine: the lifecycle of one group, per docs/protocol.md "Group lifecycle", and whether its node keeps watching it.
 * `created` -(first member)-> `active` -(last member leaves)-> `empty-grace` -(grace expires)-> expiry reported to
 * the listener, which discards the group in the store; the store's `discarded` event ends the actor (`discarded`,
 * final). A join during `empty-grace` returns to `active`. A group created empty waits in `created` for its grace.
 * Static groups start `active`, go to `empty-grace` when emptied, and never expire.
 *
 * Watch and release: an `active` group that nothing of the node holds (`IDLE`: its members are all elsewhere, whose
 * nodes run its lifecycle) goes to `unwatching` (still `active` for clients); `BUSY` brings it back. After the unwatch
 * delay there it ends as `released` (final) and the listener's `onReleased` tells the node to stop watching it. An
 * empty group is never released: its grace runs here. Static groups and groups with a tick stay watched.
 * Timers are xstate delays on the actor's clock, so tests drive them with fake timers.
 */
export const GroupMachine = setup({
  types: {
    context: {} as GroupContext,
    input: {} as GroupMachineInput,
    events: {} as GroupMachineEvent,
  },
  actors: { ticker },
  guards: {
    hasMembers: ({ event }) => event.type === 'SIZE' && event.size > 0,
    isEmpty: ({ event }) => event.type === 'SIZE' && event.size === 0,
    startsActive: ({ context }) => context.startSize > 0 || context.static,
    wasActive: ({ context }) => context.everActive,
    expires: ({ context }) => !context.static,
    releasable: ({ context }) => !context.static && context.tickMs <= 0,
  },
  delays: {
    grace: ({ context }) => context.graceMs,
    unwatch: UNWATCH_DELAY_MS,
  },
  actions: {
    reportExpiry: ({ context }) => context.listener.onGraceExpired(context.id),
    reportRelease: ({ context }) => context.listener.onReleased?.(context.id),
    startTicker: enqueueActions(({ context, enqueue }) => {
      if (context.tickMs <= 0) return;
      const { listener, id, clock } = context;
      enqueue.spawnChild('ticker', { id: 'ticker', input: { everyMs: context.tickMs, onTick: () => listener.onTick(id), clock } });
    }),
  },
}).createMachine({
  id: 'group',
  context: ({ input }) => ({
    id: input.id,
    static: input.static,
    everActive: input.everActive,
    graceMs: input.graceMs,
    startSize: input.size,
    tickMs: input.tickMs,
    listener: input.listener,
    clock: input.clock ?? systemClock,
  }),
  entry: 'startTicker',
  initial: 'starting',
  on: {
    DISCARDED: '.discarded',
  },
  states: {
    starting: {
      always: [
        { guard: 'startsActive', target: 'active' },
        { guard: 'wasActive', target: 'empty-grace' },
        { target: 'created' },
      ],
    },
    created: {
      on: { SIZE: { guard: 'hasMembers', target: 'active' }, RETRY: { target: 'created', reenter: true } },
      after: { grace: { guard: 'expires', actions: 'reportExpiry' } },
    },
    active: {
      on: { SIZE: { guard: 'isEmpty', target: 'empty-grace' }, IDLE: { guard: 'releasable', target: 'unwatching' } },
    },
    unwatching: {
      on: { SIZE: { guard: 'isEmpty', target: 'empty-grace' }, BUSY: { target: 'active' } },
      after: { unwatch: { target: 'released' } },
    },
    'empty-grace': {
      on: {
        SIZE: { guard: 'hasMembers', target: 'active' },
        RETRY: { target: 'empty-grace', reenter: true },
      },
      after: { grace: { guard: 'expires', actions: 'reportExpiry' } },
    },
    released: { type: 'final', entry: 'reportRelease' },
    discarded: { type: 'final' },
  },
});

/**
 * The client-visible state of a group actor's snapshot value: `unwatching` is `active`; `released`, `discarded` and
 * the transient start map to null.
 */
export function visibleState(value: unknown): GroupState | null {
  if (value === 'unwatching') return 'active';
  return value === 'created' || value === 'active' || value === 'empty-grace' ? value : null;
}
