import { fromPromise, setup, stateIn } from 'xstate';

/** How long after a failed re-assert (the store refused or did not answer) it is tried again. */
export const REASSERT_RETRY_MS = 1000;

/** Input of a reconcile actor: the steps it runs and what it reports. */
export interface ReconcileInput {
  /** Retries the refused leaves, stores the session records again and re-asserts the groups; rejects on a failure. */
  reassert: () => Promise<void>;
  /** Brings every replica in line with the store. Must not reject. */
  resyncAll: () => Promise<void>;
  /** The re-assert of the latest reconnect went through: the store is settled, the node may serve again. */
  reasserted: () => void;
  /** A re-assert failed: reported before the retry delay. */
  failed: (error: unknown) => void;
}

/** Events a reconcile actor accepts. */
export type ReconcileEvent =
  /** The store came back after a loss, or this node learnt it was taken for dead (`onReconnected`). */
  | { type: 'RECONNECTED' }
  /** The store became unreachable: nothing can be re-asserted until it is back (and reports `RECONNECTED`). */
  | { type: 'LOST' }
  /** The node closes: nothing more runs. */
  | { type: 'CLOSE' };

/**
 * ReconcileMachine: when a node re-asserts itself in the shared store and resyncs its replicas.
 * `idle` -(RECONNECTED)-> `reasserting` (invokes `reassert`) -> `resyncing` (reports `reasserted` on entry, invokes
 * `resyncAll`) -> `idle`. A RECONNECTED while re-asserting marks the run `stale`: it runs once more when it ends,
 * without reporting (the store it wrote to may have been lost since); while resyncing it starts a new re-assert.
 * A failed re-assert waits `REASSERT_RETRY_MS` (`waiting`) and tries again. LOST from any state returns to `idle`;
 * CLOSE ends it (`closed`, final). The delay is an xstate delay on the actor's clock.
 */
export const ReconcileMachine = setup({
  types: {
    context: {} as ReconcileInput,
    input: {} as ReconcileInput,
    events: {} as ReconcileEvent,
  },
  actors: {
    reassert: fromPromise<void, ReconcileInput>(({ input }) => input.reassert()),
    resyncAll: fromPromise<void, ReconcileInput>(({ input }) => input.resyncAll()),
  },
  guards: {
    // A RECONNECTED came while the re-assert ran.
    stale: stateIn({ reasserting: 'stale' }),
  },
  actions: {
    reasserted: ({ context }) => context.reasserted(),
    failed: ({ context, event }) => context.failed((event as { error?: unknown }).error),
  },
  delays: {
    retry: REASSERT_RETRY_MS,
  },
}).createMachine({
  id: 'reconcile',
  context: ({ input }) => input,
  initial: 'idle',
  on: { CLOSE: '.closed', LOST: '.idle' },
  states: {
    idle: { on: { RECONNECTED: 'reasserting' } },
    reasserting: {
      initial: 'current',
      states: {
        current: { on: { RECONNECTED: 'stale' } },
        stale: {},
      },
      invoke: {
        src: 'reassert',
        input: ({ context }) => context,
        onDone: [{ guard: 'stale', target: 'reasserting', reenter: true }, { target: 'resyncing' }],
        onError: { target: 'waiting', actions: 'failed' },
      },
    },
    waiting: {
      after: { retry: 'reasserting' },
      on: { RECONNECTED: 'reasserting' },
    },
    resyncing: {
      entry: 'reasserted',
      invoke: { src: 'resyncAll', input: ({ context }) => context, onDone: 'idle', onError: 'idle' },
      on: { RECONNECTED: 'reasserting' },
    },
    closed: { type: 'final' },
  },
});
