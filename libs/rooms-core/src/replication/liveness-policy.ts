import type { Now } from '../clock.js';
import type { NodeId } from '../types.js';

/** Every how many checks a node trims the list of recently dead nodes. */
const PRUNE_EVERY = 50;

/** How often a node checks the others by default: a tenth of the node TTL, at least 50 ms. */
export function defaultCheckMs(nodeTtlMs: number): number {
  return Math.max(50, Math.floor(nodeTtlMs / 10));
}

/** Options of a `LivenessPolicy`. */
export interface LivenessPolicyOptions {
  /** This node. */
  nodeId: NodeId;
  /** A node that did not refresh its liveness record for this long is dead. */
  nodeTtlMs: number;
  /** How often this node checks the others. Default `defaultCheckMs(nodeTtlMs)`. */
  checkMs?: number;
  /** How often this node refreshes its own record. Default a quarter of the TTL (at least 10 ms). */
  heartbeatMs?: number;
  /** How long a cleaned-up node stays listed as recently dead. Default ten TTLs, at least a minute. */
  deadRetentionMs?: number;
  /** Wall clock (epoch ms). */
  now: Now;
}

/** What one liveness check read from the store. */
export interface LivenessObservation {
  /** When the check started (`now()` before its first read). */
  at: number;
  /** Whether this node's own liveness record was there. */
  selfPresent: boolean;
  /** The other known nodes, each with whether its record was there. */
  others: ReadonlyArray<{ node: NodeId; present: boolean }>;
  /** Nodes cleaned up after their death since `retainedSince(at)`. */
  recentlyCleaned: readonly NodeId[];
}

/** What to do after a check (see `LivenessPolicy.assess`). */
export interface LivenessVerdict {
  /** This node's own record was gone: it stalled (or the store did): beat at once. Nobody was judged. */
  selfMissing: boolean;
  /** Nodes found dead that were not reported yet: report each (once). */
  down: NodeId[];
  /** Nodes whose record is gone: clean up after them (one survivor does, under a lock). */
  dead: NodeId[];
  /** Time to trim the list of recently dead nodes (everybody's chore, now and then). */
  prune: boolean;
}

/**
 * LivenessPolicy: when a node counts as alive or dead, without any I/O (the backend reads and writes the liveness
 * records and runs the timers). A node refreshes its record every `heartbeatMs`; the record lives `recordLifetimeMs`,
 * two checks less than the node TTL, so that survivors checking every `checkMs` see a dead node within `nodeTtlMs` of
 * its last heartbeat (at the defaults, 3000 / 300, a heartbeat may be ~1.6 s late before it counts as dead). A node
 * whose record is gone is dead: reported once (also when another survivor already cleaned it up: recently dead nodes
 * stay listed for `deadRetentionMs`), and cleaned up after until the cleanup forgets it.
 *
 * After a reconnect, or when this node finds its own record gone (it stalled, or the store did and every record
 * expired at once), nobody is declared dead for a TTL: the others need a heartbeat to come back.
 *
 * When the store itself came back without its data (`storeReplaced`: a restart without persistence), every record and
 * the list of known nodes are gone at once, for nodes that never died. Then the nodes live before the loss are
 * awaited: they stay in the live view, and a TTL after this node saw the store back (so each had a full TTL to write
 * its record again, however late the nodes reconnect) those still without a record are found dead, reported and
 * cleaned up after like any other dead node.
 */
export class LivenessPolicy {
  readonly nodeId: NodeId;
  readonly nodeTtlMs: number;
  readonly checkMs: number;
  readonly heartbeatMs: number;
  readonly deadRetentionMs: number;
  /** How long a heartbeat keeps a node's record (see the class doc). */
  readonly recordLifetimeMs: number;
  private readonly now: Now;
  private live: NodeId[];
  private readonly reportedDown = new Set<NodeId>();
  /** Until then nobody is declared dead (see `holdVerdicts`). */
  private quietUntil = 0;
  private checks = 0;
  /** Nodes live before the store lost its data, not seen with a record since (see `storeReplaced`). */
  private readonly awaited = new Set<NodeId>();
  /** Awaited nodes found dead, judged dead until a cleanup lists them as recently dead (or they come back). */
  private readonly lostWithStore = new Set<NodeId>();
  /** Until then a missing own record is explained by the store's loss, not by a stall (see `storeReplaced`). */
  private storeReturnUntil = 0;

  constructor(options: LivenessPolicyOptions) {
    this.nodeId = options.nodeId;
    this.nodeTtlMs = options.nodeTtlMs;
    this.checkMs = options.checkMs ?? defaultCheckMs(options.nodeTtlMs);
    this.heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(options.nodeTtlMs / 4));
    this.deadRetentionMs = options.deadRetentionMs ?? Math.max(60_000, 10 * options.nodeTtlMs);
    this.recordLifetimeMs = Math.max(options.nodeTtlMs - 2 * this.checkMs, Math.ceil(options.nodeTtlMs / 2));
    this.now = options.now;
    this.live = [options.nodeId];
  }

  /** The wall clock the policy judges with. */
  time(): number {
    return this.now();
  }

  /** Ids of the nodes alive at the last check (and the awaited ones, see `storeReplaced`), this one first, the others sorted. */
  liveNodes(): NodeId[] {
    return [...this.live];
  }

  /**
   * This node saw the store come back without its data (its incarnation marker was gone or replaced): holds verdicts
   * for a TTL from now and awaits, for that TTL, every node of the live view (see the class doc).
   */
  storeReplaced(): void {
    for (const id of this.live) if (id !== this.nodeId) this.awaited.add(id);
    this.holdVerdicts();
    this.storeReturnUntil = Math.max(this.storeReturnUntil, this.now() + this.nodeTtlMs);
  }

  /** True for a TTL after `storeReplaced`: this node's own record missing then is the store's loss, not a stall. */
  storeRecentlyReplaced(): boolean {
    return this.now() < this.storeReturnUntil;
  }

  /** The oldest death (epoch ms, at `at`) that still counts as recent. */
  retainedSince(at: number): number {
    return at - this.deadRetentionMs;
  }

  /** Leaves out of the live view, until the next check, a node found without its record between checks. */
  gone(node: NodeId): void {
    if (node !== this.nodeId) this.live = this.live.filter((id) => id !== node);
  }

  /** Declares nobody dead for a TTL from now (a reconnect: the others need a heartbeat to come back). */
  holdVerdicts(): void {
    this.quietUntil = Math.max(this.quietUntil, this.now() + this.nodeTtlMs);
  }

  /**
   * This node's own record had expired while it ran: holds verdicts for a TTL and resolves with until when to wait
   * for a survivor's cleanup of this node to end (three TTLs) before re-asserting anyway.
   */
  selfExpired(): number {
    this.holdVerdicts();
    return this.now() + 3 * this.nodeTtlMs;
  }

  /** True while `deadline` (epoch ms) has not passed. */
  before(deadline: number): boolean {
    return this.now() < deadline;
  }

  /** Judges one check: updates the live view and says whom to report and clean up (see `LivenessVerdict`). */
  assess(observation: LivenessObservation): LivenessVerdict {
    if (!observation.selfPresent) {
      this.holdVerdicts();
      return { selfMissing: true, down: [], dead: [], prune: false };
    }
    const live: NodeId[] = [];
    const dead: NodeId[] = [];
    for (const { node, present } of observation.others) {
      if (node === this.nodeId) continue;
      (present ? live : dead).push(node);
    }
    for (const id of live) {
      this.awaited.delete(id);
      this.lostWithStore.delete(id);
    }
    const quiet = observation.at < this.quietUntil;
    if (!quiet) {
      // The awaited nodes had their TTL: those still without a record died while the store was away.
      for (const id of this.awaited) this.lostWithStore.add(id);
      this.awaited.clear();
    }
    this.live = [this.nodeId, ...[...new Set([...live, ...this.awaited])].sort()];
    if (quiet) return { selfMissing: false, down: [], dead: [], prune: false };
    // Cleaned up (listed as recently dead): their cleanup forgot them, the list below keeps them reported.
    for (const id of observation.recentlyCleaned) this.lostWithStore.delete(id);
    for (const id of this.lostWithStore) if (!dead.includes(id)) dead.push(id);
    const found = new Set([...dead, ...observation.recentlyCleaned.filter((id) => id !== this.nodeId && !live.includes(id))]);
    for (const id of [...this.reportedDown]) if (!found.has(id)) this.reportedDown.delete(id);
    const down: NodeId[] = [];
    for (const id of found) {
      if (this.reportedDown.has(id)) continue;
      this.reportedDown.add(id);
      down.push(id);
    }
    return { selfMissing: false, down, dead, prune: ++this.checks % PRUNE_EVERY === 0 };
  }
}
