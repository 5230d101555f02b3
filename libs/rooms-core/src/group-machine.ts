import { enqueueActions, fromCallback, setup } from 'xstate';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { GroupId, GroupState } from './types.js';

/** What a group actor reports to the node that supervises it. One object serves every actor of a node. */
export interface GroupLifecycleListener {
  /** The group stayed empty (in `created` or `empty-grace`) for its whole grace: the node should discard it. */
  onGraceExpired(group: GroupId): void;
  /** The group's tick fired (only for groups created with a tick). */
  onTick(group: GroupId): void;
}

/** Input of a group actor. */
export interface GroupMachineInput {
  id: GroupId;
  /** Static groups never leave `active`/`empty-grace` and never expire. */
  static: boolean;
  /** How long the group may stay empty before it expires (its `ttl`, else the node's empty grace). */
  graceMs: number;
  /** Members at start (from the store's snapshot). */
  size: number;
  /** Whether the group already had members (an empty group that had some starts in `empty-grace`). */
  everActive: boolean;
  /** Tick period in ms; 0 = no tick. */
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
  | { type: 'RETRY' };

const ticker = fromCallback<{ type: 'noop' }, { everyMs: number; onTick: () => void; clock: Clock }>(({ input }) => {
  const { clock, everyMs, onTick } = input;
  let handle = clock.setTimeout(function tick() {
    handle = clock.setTimeout(tick, everyMs);
    onTick();
  }, everyMs);
  return () => clock.clearTimeout(handle);
});

/**
 * GroupMachine: the lifecycle of one group, per PROTOCOL.md "Group lifecycle".
 * `created` -(first member)-> `active` -(last member leaves)-> `empty-grace` -(grace expires)-> expiry reported to
 * the listener, which discards the group in the store; the store's `discarded` event ends the actor (`discarded`,
 * final). A join during `empty-grace` returns to `active`. A group created empty waits in `created` for its grace.
 * Static groups start `active`, go to `empty-grace` when emptied, and never expire. Timers are xstate delays, so
 * tests drive them with fake timers.
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
  },
  delays: {
    grace: ({ context }) => context.graceMs,
  },
  actions: {
    reportExpiry: ({ context }) => context.listener.onGraceExpired(context.id),
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
      on: { SIZE: { guard: 'isEmpty', target: 'empty-grace' } },
    },
    'empty-grace': {
      on: {
        SIZE: { guard: 'hasMembers', target: 'active' },
        RETRY: { target: 'empty-grace', reenter: true },
      },
      after: { grace: { guard: 'expires', actions: 'reportExpiry' } },
    },
    discarded: { type: 'final' },
  },
});

/** The client-visible state of a group actor's snapshot value (`discarded` and the transient start map to null). */
export function visibleState(value: unknown): GroupState | null {
  return value === 'created' || value === 'active' || value === 'empty-grace' ? value : null;
}
