import { RoomsError } from '@rooms-kit/core';
import type { Logger, NodeId } from '@rooms-kit/core';
import { toStoreError, withDeadline } from './errors.js';
import type { GroupStore } from './group-store.js';
import type { RedisKeys } from './keys.js';
import type { NodeLiveness } from './liveness.js';
import type { NodeIndex } from './node-index.js';
import type { ResolvedOptions } from './options.js';
import type { RedisLink } from './redis-link.js';
import type { ScriptRunner } from './script-runner.js';
import type { SessionRecords } from './session-records.js';

/** The parts of a `RedisBackend` that exist between `start` and `close`. */
export interface Running {
  link: RedisLink;
  groups: GroupStore;
  sessions: SessionRecords;
  index: NodeIndex;
  liveness: NodeLiveness;
  runner: ScriptRunner;
}

/**
 * RedisRuntime: what the parts of one `RedisBackend` (group log, session store, cluster bus) share: the options, key
 * naming and logger, and the running parts once started. Every call of a part goes through `require` or `call`, which
 * reject `UNAVAILABLE` before `start`, after `close`, and (`call`) while a connection is down.
 */
export class RedisRuntime {
  /** The running parts; null before `start` and after `close`. */
  running: Running | null = null;
  /** Set once `close` was called. */
  closing = false;

  constructor(
    readonly options: ResolvedOptions,
    readonly keys: RedisKeys,
    readonly logger: Logger,
  ) {}

  /** This node's id. */
  get nodeId(): NodeId {
    return this.options.nodeId;
  }

  /** The running parts; throws `UNAVAILABLE` when not started or closed. */
  require(): Running {
    if (!this.running) throw new RoomsError('UNAVAILABLE', this.closing ? 'the backend is closed' : 'the backend is not started');
    return this.running;
  }

  /**
   * Runs a store operation, mapping failures; `deadline` bounds operations of several round trips. Rejects
   * `UNAVAILABLE` at once while any connection is down, the subscriber too: a change applied then would publish an
   * event this node cannot receive, and the kernel would wait for it. `work` starts synchronously, so commands of
   * calls made one after the other are sent in that order.
   */
  async call<T>(work: (run: Running) => Promise<T>, deadline = false): Promise<T> {
    const run = this.require();
    if (!run.link.available) throw new RoomsError('UNAVAILABLE', 'the connection to the shared store is down');
    if (deadline) return withDeadline(this.options.commandTimeoutMs, () => work(run));
    try {
      return await work(run);
    } catch (error) {
      throw toStoreError(error);
    }
  }
}
