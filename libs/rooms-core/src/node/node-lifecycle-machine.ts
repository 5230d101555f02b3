import { setup } from 'xstate';

/** Events of a node's lifecycle actor (sent by `NodeManager`, which does the I/O each one follows or precedes). */
export type NodeLifecycleEvent =
  /** `start()` was called: the backend starts. Accepted once, from `new`. */
  | { type: 'START' }
  /** The backend started and the static groups exist: the node serves. */
  | { type: 'STARTED' }
  /** `drain()`: new groups are refused from now on. */
  | { type: 'DRAIN' }
  /** The backend reported the shared store reachable (`true`) or not. */
  | { type: 'STORE'; available: boolean }
  /** `close()` was called: operations are refused, nothing new is started, the backend closes. */
  | { type: 'CLOSE' }
  /** The backend closed. */
  | { type: 'CLOSED' };

/**
 * NodeLifecycleMachine: the lifecycle of one node, in three orthogonal regions.
 * - `run`: `new` -(START)-> `starting` -(STARTED)-> `started`; CLOSE from any of them -> `closing` -(CLOSED)->
 *   `closed` (final). `STARTED` after a CLOSE is ignored: a start that finishes after the close does not revive it.
 * - `intake`: `accepting` -(DRAIN)-> `draining` (for good; may come before the start, as before).
 * - `store`: `reachable` <-(STORE)-> `unreachable`, as the backend reports it.
 * The node is ready (`/readyz`) in `started` x `accepting` x `reachable`, and open (operations accepted, actors and
 * timers may start) in `new`, `starting` and `started`. No timers: the actor needs no clock.
 */
export const NodeLifecycleMachine = setup({
  types: { events: {} as NodeLifecycleEvent },
  guards: {
    reachable: ({ event }) => event.type === 'STORE' && event.available,
    unreachable: ({ event }) => event.type === 'STORE' && !event.available,
  },
}).createMachine({
  id: 'node',
  type: 'parallel',
  states: {
    run: {
      initial: 'new',
      states: {
        new: { on: { START: 'starting', CLOSE: 'closing' } },
        starting: { on: { STARTED: 'started', CLOSE: 'closing' } },
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
        reachable: { on: { STORE: { guard: 'unreachable', target: 'unreachable' } } },
        unreachable: { on: { STORE: { guard: 'reachable', target: 'reachable' } } },
      },
    },
  },
});

/** The state value of a `NodeLifecycleMachine` actor, one entry per region. */
export interface NodeLifecycleValue {
  run: 'new' | 'starting' | 'started' | 'closing' | 'closed';
  intake: 'accepting' | 'draining';
  store: 'reachable' | 'unreachable';
}
