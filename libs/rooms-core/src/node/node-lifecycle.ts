import { RoomsError } from '@rooms-kit/contract';
import type { Actor } from 'xstate';
import { createActor } from 'xstate';
import type { NodeLifecycleEvent, NodeLifecycleValue } from './node-lifecycle-machine.js';
import { NodeLifecycleMachine } from './node-lifecycle-machine.js';

/** What the parts of a node ask of its lifecycle: whether they may still start something, or serve a request. */
export interface NodeOpenness {
  /**
   * True until `close()` (in `new`, `starting`, `waiting` and `started`): operations run, actors and timers may
   * start.
   */
  readonly isOpen: boolean;
  /** Throws `UNAVAILABLE` once the node is closing or closed. */
  assertOpen(): void;
}

/** What the parts of a node ask of the shared store's state: whether it holds this node's groups and members. */
export interface StoreSettlement {
  /**
   * True while the store is reachable and holds what this node re-asserted after its last loss (the `store` region
   * is `reachable`); false while it is unreachable and until the re-assert after it. A field read (the broadcast
   * path asks it on every message).
   */
  readonly storeSettled: boolean;
  /** Resolves once `storeSettled` is true, or once the node is closing (at once when either holds already). */
  whenStoreSettled(): Promise<void>;
}

/**
 * NodeLifecycle: the node's lifecycle actor (`NodeLifecycleMachine`) behind the questions the kernel asks of it.
 * The methods report what happened; the machine decides what it means (a second start, a start finished after a
 * close, a drain before the start). The actor holds no timer or subscription, so there is nothing to stop: it stays
 * readable (and answers `drain()`) after the close.
 */
export class NodeLifecycle implements NodeOpenness, StoreSettlement {
  private readonly actor: Actor<typeof NodeLifecycleMachine> = createActor(NodeLifecycleMachine).start();
  /** Whether the `store` region is `reachable`, kept after every event (see `storeSettled`). */
  private settled = true;
  /** Callers of `whenStoreSettled` waiting for the store to settle (or the node to close). */
  private settleWaiters: Array<() => void> = [];

  /** The current state, one entry per region. */
  get value(): NodeLifecycleValue {
    return this.actor.getSnapshot().value;
  }

  /** True in `new`, `starting`, `waiting` and `started` (see `NodeOpenness.isOpen`). */
  get isOpen(): boolean {
    const run = this.value.run;
    return run !== 'closing' && run !== 'closed';
  }

  /** True in `started`, while accepting new groups and while the store is settled (reachable and re-asserted). */
  get ready(): boolean {
    const { run, intake, store } = this.value;
    return run === 'started' && intake === 'accepting' && store === 'reachable';
  }

  /** True while the start waits for a store it could not reach (the backend keeps trying; `run` is `waiting`). */
  get waitingForStore(): boolean {
    return this.value.run === 'waiting';
  }

  /** True while the shared store can be reached (as the backend last reported), re-asserted or not yet. */
  get storeReachable(): boolean {
    return this.value.store !== 'unreachable';
  }

  /** See `StoreSettlement.storeSettled`. */
  get storeSettled(): boolean {
    return this.settled;
  }

  /** See `StoreSettlement.whenStoreSettled`. */
  whenStoreSettled(): Promise<void> {
    if (this.settled || !this.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.settleWaiters.push(resolve));
  }

  /** True after `drain()`. */
  get isDraining(): boolean {
    return this.value.intake === 'draining';
  }

  /** Throws `UNAVAILABLE` once `close()` was called. */
  assertOpen(): void {
    if (!this.isOpen) throw new RoomsError('UNAVAILABLE', 'node is closed');
  }

  /** Enters `starting`; throws `INTERNAL` unless the node is `new` (a node starts once). */
  begin(): void {
    if (!this.actor.getSnapshot().can({ type: 'START' })) throw new RoomsError('INTERNAL', 'a NodeManager starts once');
    this.send({ type: 'START' });
  }

  /** The start finished; false (and nothing changes) when the node was closed meanwhile. */
  started(): boolean {
    this.send({ type: 'STARTED' });
    return this.value.run === 'started';
  }

  /** Refuses new groups from now on. */
  drain(): void {
    this.send({ type: 'DRAIN' });
  }

  /**
   * The backend reported the store's reachability (back after a loss: not settled until `reasserted`). During the
   * start, `false` means the start waits for the store (`waiting`) and `true` that it goes on (nothing to re-assert).
   */
  store(available: boolean): void {
    this.send({ type: 'STORE', available });
  }

  /** The store came back, or this node learnt it was taken for dead: not settled until `reasserted`. */
  reconciling(): void {
    this.send({ type: 'RECONCILE' });
  }

  /** The reconciler re-asserted this node's groups and members: the store is settled again. */
  reasserted(): void {
    this.send({ type: 'REASSERTED' });
  }

  /** Enters `closing`; false when the node was already closing or closed. */
  beginClose(): boolean {
    if (!this.isOpen) return false;
    this.send({ type: 'CLOSE' });
    return true;
  }

  /** The backend closed: enters `closed`. */
  closed(): void {
    this.send({ type: 'CLOSED' });
  }

  private send(event: NodeLifecycleEvent): void {
    this.actor.send(event);
    this.settled = this.value.store === 'reachable';
    if ((this.settled || !this.isOpen) && this.settleWaiters.length > 0) {
      const waiters = this.settleWaiters;
      this.settleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
