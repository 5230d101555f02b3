import { RoomsError } from '@rooms-kit/contract';
import type { Actor } from 'xstate';
import { createActor } from 'xstate';
import type { NodeLifecycleValue } from './node-lifecycle-machine.js';
import { NodeLifecycleMachine } from './node-lifecycle-machine.js';

/** What the parts of a node ask of its lifecycle: whether they may still start something, or serve a request. */
export interface NodeOpenness {
  /** True until `close()` (in `new`, `starting` and `started`): operations run, actors and timers may start. */
  readonly isOpen: boolean;
  /** Throws `UNAVAILABLE` once the node is closing or closed. */
  assertOpen(): void;
}

/**
 * NodeLifecycle: the node's lifecycle actor (`NodeLifecycleMachine`) behind the questions the kernel asks of it.
 * The methods report what happened; the machine decides what it means (a second start, a start finished after a
 * close, a drain before the start). The actor holds no timer or subscription, so there is nothing to stop: it stays
 * readable (and answers `drain()`) after the close.
 */
export class NodeLifecycle implements NodeOpenness {
  private readonly actor: Actor<typeof NodeLifecycleMachine> = createActor(NodeLifecycleMachine).start();

  /** The current state, one entry per region. */
  get value(): NodeLifecycleValue {
    return this.actor.getSnapshot().value;
  }

  /** True in `new`, `starting` and `started` (see `NodeOpenness.isOpen`). */
  get isOpen(): boolean {
    const run = this.value.run;
    return run !== 'closing' && run !== 'closed';
  }

  /** True in `started`, while accepting new groups and while the store can be reached. */
  get ready(): boolean {
    const { run, intake, store } = this.value;
    return run === 'started' && intake === 'accepting' && store === 'reachable';
  }

  /** True while the shared store can be reached (as the backend last reported). */
  get storeReachable(): boolean {
    return this.value.store === 'reachable';
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
    this.actor.send({ type: 'START' });
  }

  /** The start finished; false (and nothing changes) when the node was closed meanwhile. */
  started(): boolean {
    this.actor.send({ type: 'STARTED' });
    return this.value.run === 'started';
  }

  /** Refuses new groups from now on. */
  drain(): void {
    this.actor.send({ type: 'DRAIN' });
  }

  /** The backend reported the store's reachability. */
  store(available: boolean): void {
    this.actor.send({ type: 'STORE', available });
  }

  /** Enters `closing`; false when the node was already closing or closed. */
  beginClose(): boolean {
    if (!this.isOpen) return false;
    this.actor.send({ type: 'CLOSE' });
    return true;
  }

  /** The backend closed: enters `closed`. */
  closed(): void {
    this.actor.send({ type: 'CLOSED' });
  }
}
