import type { Backend, BackendHandler } from '../port/backend.js';
import type { ClusterBus } from '../port/cluster-bus.js';
import type { GroupLog } from '../port/group-log.js';
import type { SessionStore } from '../port/session-store.js';

/**
 * HeldReconnects: a real backend whose `onReconnected` notifications to the node are held until `release()`, so a
 * test decides when this node re-asserts after the store came back (e.g. after another node did). Everything else
 * goes through unchanged, at once. A test aid (like `RecordingHandler`), exported for every backend's tests.
 */
export class HeldReconnects implements Backend {
  private held = 0;
  private handler: BackendHandler | null = null;
  private holding = true;

  constructor(private readonly inner: Backend) {}

  get nodeId(): string {
    return this.inner.nodeId;
  }

  get groups(): GroupLog {
    return this.inner.groups;
  }

  get sessions(): SessionStore {
    return this.inner.sessions;
  }

  get bus(): ClusterBus {
    return this.inner.bus;
  }

  /** How many `onReconnected` are being held. */
  get heldCount(): number {
    return this.held;
  }

  start(handler: BackendHandler): Promise<void> {
    this.handler = handler;
    return this.inner.start({
      onEvent: (event) => handler.onEvent(event),
      onNodeDown: (node) => handler.onNodeDown(node),
      onOrphans: (groups) => handler.onOrphans(groups),
      onAvailability: (available) => handler.onAvailability(available),
      onNodeMessage: (from, body) => handler.onNodeMessage(from, body),
      onReconnected: () => {
        if (this.holding) this.held++;
        else handler.onReconnected();
      },
    });
  }

  /** Delivers the held `onReconnected` (one is enough: each re-asserts everything) and stops holding. */
  release(): void {
    this.holding = false;
    if (this.held > 0) this.handler?.onReconnected();
    this.held = 0;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
