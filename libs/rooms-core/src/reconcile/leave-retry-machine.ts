import { fromPromise, setup } from 'xstate';

/** How long after a refusal the refused leaves are tried again (and again, while any is left). */
export const LEAVE_RETRY_MS = 1000;

/** Input of a leave-retry actor. */
export interface LeaveRetryInput {
  /** Tries every refused leave once; resolves whether some are still refused. Must not reject. */
  retry: () => Promise<boolean>;
}

/** Events a leave-retry actor accepts. */
export type LeaveRetryEvent =
  /** The store refused a leave (it was queued for a retry). */
  | { type: 'QUEUED' }
  /** The node closes: no more retries. */
  | { type: 'CLOSE' };

/**
 * LeaveRetryMachine: when a node retries the leaves its store refused while unreachable, so that no member is left
 * behind. `idle` -(QUEUED)-> `waiting` -(after the retry delay)-> `retrying` (every refused leave once) -> `waiting`
 * again while some are still refused, else `idle`. Leaves refused while retrying are picked up by the next round.
 * CLOSE ends it from any state (`closed`, final). The delay is an xstate delay on the actor's clock.
 */
export const LeaveRetryMachine = setup({
  types: {
    context: {} as LeaveRetryInput,
    input: {} as LeaveRetryInput,
    events: {} as LeaveRetryEvent,
  },
  actors: {
    retryAll: fromPromise<boolean, LeaveRetryInput>(({ input }) => input.retry()),
  },
  delays: {
    retry: LEAVE_RETRY_MS,
  },
}).createMachine({
  id: 'leave-retry',
  context: ({ input }) => ({ retry: input.retry }),
  initial: 'idle',
  on: { CLOSE: '.closed' },
  states: {
    idle: { on: { QUEUED: 'waiting' } },
    waiting: { after: { retry: 'retrying' } },
    retrying: {
      invoke: {
        src: 'retryAll',
        input: ({ context }) => context,
        onDone: [{ guard: ({ event }) => event.output, target: 'waiting' }, { target: 'idle' }],
        onError: { target: 'waiting' },
      },
    },
    closed: { type: 'final' },
  },
});
