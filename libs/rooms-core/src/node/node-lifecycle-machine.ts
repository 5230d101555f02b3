import { and, or, setup, stateIn } from 'xstate';

/** Events of a node's lifecycle actor (sent by `NodeManager`, which does the I/O each one follows or precedes). */
export type NodeLifecycleEvent =
  /** `start()` was called: the backend starts. Accepted once, from `new`. */
  | { type: 'START' }
  /** The backend started and the static groups exist: the node serves. */
  | { type: 'STARTED' }
  /** `drain()`: new groups are refused from now on. */
  | { type: 'DRAIN' }
  /**
   * The backend reported the shared store reachable (`true`) or not; during the start, a backend that waits for an
   * unreachable store reports `false` once, then `true` once it reached it.
   */
  | { type: 'STORE'; available: boolean }
  /**
   * The backend reported the store back after a loss, or this node taken for dead (`onReconnected`): the store may
   * lack this node's groups and members until the reconciler re-asserted them.
   */
  | { type: 'RECONCILE' }
  /** The reconciler re-asserted this node's groups and members (no loss since it began). */
  | { type: 'REASSERTED' }
  /** `close()` was called: operations are refused, nothing new is started, the backend closes. */
  | { type: 'CLOSE' }
  /** The backend closed. */
  | { type: 'CLOSED' };

/**
 * NodeLifecycleMachine: the lifecycle of one node, in three orthogonal regions.
 * - `run`: `new` -(START)-> `starting` -(STARTED)-> `started`; CLOSE from any of them -> `closing` -(CLOSED)->
 *   `closed` (final). `STARTED` after a CLOSE is ignored: a start that finishes after the close does not revive it.
 *   `starting` -(STORE false)-> `waiting` (for the store: the backend could not reach it and keeps trying) -(STORE
 *   true)-> `starting`: the start goes on once the store answers; CLOSE while waiting ends the wait.
 * - `intake`: `accepting` -(DRAIN)-> `draining` (for good; may come before the start, as before).
 * - `store`: `reachable` -(STORE false)-> `unreachable` -(STORE true)-> `reasserting` -(REASSERTED)-> `reachable`;
 *   RECONCILE from `reachable` -> `reasserting` too (the node learnt it was taken for dead); STORE false from
 *   `reasserting` -> `unreachable`. While `reasserting` the store answers, but may not hold this node's groups and
 *   members yet (a Redis restarted empty): a change there could be refused as `GROUP_NOT_FOUND` or reuse an offset.
 *   A node that has not started yet (`run` `starting` or `waiting`) has nothing there to re-assert: STORE true takes
 *   it from `unreachable` straight to `reachable`.
 * The node is ready (`/readyz`) in `started` x `accepting` x `reachable`, and open (operations accepted, actors and
 * timers may start) in `new`, `starting` and `started`. No timers: the actor needs no clock.
 */
export const NodeLifecycleMachine = setup({
  types: { events: {} as NodeLifecycleEvent },
  guards: {
    reachable: ({ event }) => event.type === 'STORE' && event.available,
    unreachable: ({ event }) => event.type === 'STORE' && !event.available,
    beforeStart: or([stateIn({ run: 'starting' }), stateIn({ run: 'waiting' })]),
  },
}).createMachine({
  id: 'node',
  type: 'parallel',
  states: {
    run: {
      initial: 'new',
      states: {
        new: { on: { START: 'starting', CLOSE: 'closing' } },
        starting: { on: { STARTED: 'started', CLOSE: 'closing', STORE: { guard: 'unreachable', target: 'waiting' } } },
        waiting: { on: { STORE: { guard: 'reachable', target: 'starting' }, CLOSE: 'closing' } },
        started: { on: { CLOSE: 'closing' } },
        closing: { on: { CLOSED: 'closed' } },
        closed: { type: 'final' },
      },
    },
    intake: {
      initial: 'accepting',
      states: {
        accepting: { on: { DRAIN: 'draining' } },
        draining: {},
      },
    },
    store: {
      initial: 'reachable',
      states: {
        reachable: { on: { STORE: { guard: 'unreachable', target: 'unreachable' }, RECONCILE: 'reasserting' } },
        unreachable: {
          on: {
            STORE: [
              { guard: and(['reachable', 'beforeStart']), target: 'reachable' },
              { guard: 'reachable', target: 'reasserting' },
            ],
          },
        },
        reasserting: { on: { STORE: { guard: 'unreachable', target: 'unreachable' }, REASSERTED: 'reachable' } },
      },
    },
  },
});

/** The state value of a `NodeLifecycleMachine` actor, one entry per region. */
export interface NodeLifecycleValue {
  run: 'new' | 'starting' | 'waiting' | 'started' | 'closing' | 'closed';
  intake: 'accepting' | 'draining';
  store: 'reachable' | 'unreachable' | 'reasserting';
}
