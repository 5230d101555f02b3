import { InMemoryBackend, InMemoryStore, NodeManager } from '../../src/index.js';
import type { DeliveryEvent, DeliveryPort, Logger, SessionId } from '../../src/index.js';
import type { NodeName } from './kernel-model.js';
import { NODE_NAMES, TIMINGS } from './kernel-model.js';
import { VirtualClock } from './virtual-clock.js';

/** One `deliver` call as a node's port saw it: the event and the sessions it reached (the set minus `except`). */
export interface SeenDelivery {
  node: NodeName;
  event: DeliveryEvent;
  to: SessionId[];
}

/** A warning or error the kernel logged: in a run without faults each one is a finding. */
export interface LoggedProblem {
  node: NodeName;
  level: 'warn' | 'error';
  msg: string | undefined;
  obj: object;
}

/**
 * TwoNodeCluster: the real side of a property run: nodes A and B on one `InMemoryStore`, every timer on one
 * `VirtualClock`, every `deliver` call of both nodes recorded in order, the warnings and errors they log, and the
 * sessions they ended (`onSessionEnded`). `close()` closes both nodes.
 */
export class TwoNodeCluster {
  readonly clock = new VirtualClock();
  readonly store = new InMemoryStore({ now: this.clock.now, clock: this.clock });
  readonly nodes: Record<NodeName, NodeManager>;
  /** Deliveries not yet taken by `takeDeliveries`. */
  private deliveries: SeenDelivery[] = [];
  /** Warnings and errors logged so far. */
  readonly problems: LoggedProblem[] = [];
  /** `onSessionEnded` calls so far. */
  readonly ended: Array<{ node: NodeName; session: SessionId; reason: 'taken' | 'kicked' }> = [];

  private constructor() {
    const make = (name: NodeName): NodeManager =>
      new NodeManager({
        backend: new InMemoryBackend(name, this.store),
        delivery: this.deliveryPort(name),
        logger: this.logger(name),
        clock: this.clock,
        now: this.clock.now,
        emptyGraceMs: TIMINGS.emptyGraceMs,
        resumeWindowMs: TIMINGS.resumeWindowMs,
        onSessionEnded: (session, reason) => this.ended.push({ node: name, session, reason }),
      });
    this.nodes = { A: make('A'), B: make('B') };
  }

  /** Starts both nodes. */
  static async start(): Promise<TwoNodeCluster> {
    const cluster = new TwoNodeCluster();
    for (const name of NODE_NAMES) await cluster.nodes[name].start();
    return cluster;
  }

  /** The deliveries recorded since the last call, in the order the ports got them. */
  takeDeliveries(): SeenDelivery[] {
    const taken = this.deliveries;
    this.deliveries = [];
    return taken;
  }

  /** Closes both nodes. */
  async close(): Promise<void> {
    await Promise.all(NODE_NAMES.map((name) => this.nodes[name].close()));
  }

  private deliveryPort(node: NodeName): DeliveryPort {
    return {
      deliver: (event, to, except) => {
        this.deliveries.push({ node, event, to: [...to].filter((session) => session !== except) });
      },
    };
  }

  private logger(node: NodeName): Logger {
    return {
      debug: () => undefined,
      info: () => undefined,
      warn: (obj, msg) => this.problems.push({ node, level: 'warn', msg, obj }),
      error: (obj, msg) => this.problems.push({ node, level: 'error', msg, obj }),
    };
  }
}
