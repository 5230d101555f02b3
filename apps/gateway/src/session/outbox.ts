import type { GroupMessage } from '@rooms-kit/core';
import type { Result } from '@rooms-kit/protocol/server';
import { encodeReply } from '@rooms-kit/protocol/server';
import type { GroupCursor } from '../delivery/fanout-delivery.js';
import type { Flushable } from '../delivery/flush-scheduler.js';
import type { IntervalHolder } from '../delivery/interval-batcher.js';
import { OutboundFrame } from '../transports/outbound-frame.js';
import type { Transport, WireEncoding } from '../transports/transport.js';
import { OutboundQueue } from './outbound-queue.js';
import { ParkedFrames } from './parked-frames.js';
import type { ParkedFrame } from './parked-frames.js';
import { REPLAY_PAGE_BYTES, replayHistory } from './replay-writer.js';
import type { ReplayTarget } from './replay-writer.js';
import type { RequestOutbox } from './request-dispatcher.js';
import type { SessionServices } from './session-services.js';

/** The session an {@link Outbox} belongs to. */
export interface OutboxOwner {
  /** True once the session ended: nothing more is queued or written. */
  readonly ended: boolean;
  /** What waits for the client went over `ROOMS_MAX_OUTBOUND_BYTES` (the session closes with 4008). Must not throw. */
  overflowed(): void;
}

/** The gateway services an outbox uses. */
export type OutboxServices = Pick<SessionServices, 'delivery' | 'scheduler' | 'batcher' | 'stats' | 'config'>;

/** What an outbox tracks of one group the client is a member of. */
interface Membership {
  /** The node's latest delivered offset of the group (shared with the other local members). */
  cursor: GroupCursor;
  /** The offset the client had when it became a member here (a join's offset, a resume's replay start). */
  floor: number;
}

/**
 * Everything on its way to one session's client, whatever the transport: replies and events queued in the order
 * produced (written once per event-loop turn, or per interval for buffered groups), live frames parked behind what
 * must come first (a resume's welcome and replay, a join's reply and `since` replay), and replays written page by
 * page at the client's reading pace. What waits for the client (queued, held, parked, and the transport's buffer)
 * counts against `ROOMS_MAX_OUTBOUND_BYTES`; over it the owner is told ({@link OutboxOwner.overflowed}).
 *
 * It also knows what reached the client: when the session ends, {@link close} works out per group the last message
 * offset written (not tracked per message: the fan-out hot path) from what was still unwritten and the group's
 * shared cursor. Per-session state beyond the queue is created on first use and dropped when done.
 */
export class Outbox implements Flushable, IntervalHolder, ReplayTarget, RequestOutbox {
  /** Owned by the flush scheduler. */
  dirty = false;
  /** Created up front: every delivery touches it, so the fan-out hot path never checks for it. */
  private readonly queue: OutboundQueue;
  /** Live frames held back behind a replay (null until something is held back). */
  private parked: ParkedFrames | null = null;
  /** The groups the client is a member of, as far as this session knows (null: none yet). */
  private memberships: Map<string, Membership> | null = null;
  /** Groups whose replay is not finished yet: the first offset not queued yet (null: none). */
  private replayPending: Map<string, number> | null = null;
  /** Resolves the replay waiting for its page to be written (see {@link writeAndWait}). */
  private replayWaiter: (() => void) | null = null;

  constructor(
    private readonly owner: OutboxOwner,
    private readonly transport: Transport,
    private readonly services: OutboxServices,
  ) {
    this.queue = new OutboundQueue(transport.encoding);
  }

  get ended(): boolean {
    return this.owner.ended;
  }

  get encoding(): WireEncoding {
    return this.transport.encoding;
  }

  /** Bytes waiting for the client: queued, held, parked and in the transport's buffer (the slow-consumer measure). */
  get pendingBytes(): number {
    return this.queue.bytes + this.transport.bufferedBytes + (this.parked?.bytes ?? 0);
  }

  // ---- frames in -----------------------------------------------------------------------------------------------

  /** Queues a group event from the fan-out (parked while a resume or a join puts something before it). */
  deliver(frame: OutboundFrame, intervalMs: number): void {
    if (this.parked !== null && this.parked.park(frame, intervalMs)) {
      this.checkLimit();
      return;
    }
    this.admit(frame, intervalMs);
  }

  /** Queues a reply or a connection event, after everything queued before it. */
  send(frame: OutboundFrame): void {
    this.admit(frame, 0);
  }

  /** Queues a success reply (nothing when `ref` is undefined: fire-and-forget). */
  reply(ref: number | undefined, result: Result): void {
    if (ref !== undefined) this.admit(new OutboundFrame(encodeReply(ref, result)), 0);
  }

  /** Parks every live frame from now on, until {@link releaseAll} (a resume: welcome and replay first). */
  holdAll(): void {
    (this.parked ??= new ParkedFrames()).holdAll();
  }

  /** Parks `group`'s live frames from now on, until {@link releaseGroup} (a join: reply and replay first). */
  holdGroup(group: string): void {
    (this.parked ??= new ParkedFrames()).holdGroup(group);
  }

  /** Queues `group`'s parked frames, dropping messages at or below `replayedUpTo` (the replay had them). */
  releaseGroup(group: string, replayedUpTo: number): void {
    for (const entry of this.releaseParked(group)) {
      if (entry.frame.offset === 0 || entry.frame.offset > replayedUpTo) this.admit(entry.frame, entry.intervalMs);
    }
  }

  /** Queues every parked frame, dropping messages at or below their group's offset in `replayed`. */
  releaseAll(replayed: ReadonlyMap<string, number>): void {
    for (const entry of this.releaseParked(null)) {
      const upTo = entry.frame.group !== null ? (replayed.get(entry.frame.group) ?? 0) : 0;
      if (entry.frame.offset === 0 || entry.frame.offset > upTo) this.admit(entry.frame, entry.intervalMs);
    }
  }

  // ---- what the client has seen ----------------------------------------------------------------------------------

  /** Records that the client has seen `group` up to `offset` (a join's offset, a resume's replay start). */
  setOffset(group: string, offset: number): void {
    if (this.owner.ended) return;
    const memberships = (this.memberships ??= new Map());
    const known = memberships.get(group);
    if (known !== undefined) known.floor = offset;
    else memberships.set(group, { cursor: this.services.delivery.acquireCursor(group), floor: offset });
  }

  /** Forgets `group` (the client left it) and drops its frames still held: the leave reply is the last of it. */
  forgetGroup(group: string): void {
    this.dropMembership(group);
    this.queue.dropHeld(group);
  }

  /** Told after a group's `discarded` event was queued: forget what is tracked for it. */
  discarded(group: string): void {
    this.dropMembership(group);
  }

  // ---- replays ---------------------------------------------------------------------------------------------------

  /** Notes that `group`'s messages after `since` are still to be replayed (unwritten, should the session end first). */
  awaitReplay(group: string, since: number): void {
    (this.replayPending ??= new Map()).set(group, since + 1);
  }

  /**
   * Writes `group`'s history after `since` page by page as the client takes it; resolves with the last offset
   * written (`since` when none) once done or the session ended.
   */
  async replay(group: string, since: number, messages: readonly GroupMessage[]): Promise<number> {
    this.awaitReplay(group, since);
    // A page well under the slow-consumer limit, so a replay to a client that reads never trips it.
    const pageBytes = Math.max(1, Math.min(REPLAY_PAGE_BYTES, Math.floor(this.services.config.maxOutboundBytes / 4)));
    try {
      return await replayHistory(this, group, since, messages, pageBytes);
    } finally {
      this.replayPending?.delete(group);
      if (this.replayPending?.size === 0) this.replayPending = null;
    }
  }

  queueReplayed(frame: OutboundFrame): void {
    this.admit(frame, 0);
    if (frame.group !== null) (this.replayPending ??= new Map()).set(frame.group, frame.offset + 1);
  }

  writeAndWait(): Promise<void> {
    if (this.owner.ended) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        if (this.replayWaiter === done) this.replayWaiter = null;
        resolve();
      };
      this.replayWaiter = done;
      if (this.queue.isEmpty) return done();
      // Closing (the client's close came in): the session ends when the transport closed, which calls `done`.
      if (!this.transport.writable) return;
      this.services.stats.outboundBytes += this.queue.writeTo(this.transport, done);
    });
  }

  // ---- frames out ------------------------------------------------------------------------------------------------

  releaseHeld(group: string, reuse: OutboundFrame | null): OutboundFrame | null {
    if (this.owner.ended) return null;
    const batch = this.queue.releaseHeld(group, reuse);
    if (batch !== null) this.services.scheduler.markDirty(this);
    return batch;
  }

  flush(): void {
    if (this.owner.ended || this.queue.isEmpty) return;
    if (!this.transport.writable) return;
    this.services.stats.outboundBytes += this.queue.writeTo(this.transport);
  }

  /**
   * The session ended: drops everything queued, held and parked, wakes a replay waiting for its page, and returns
   * per group the client is a member of the last message offset that reached it (null: no group). Later messages
   * were not delivered to it: one short of the lowest offset not written (queued, held, parked, or still to be
   * replayed), else the latest offset the node delivered for the group, at least the one the client had when it
   * became a member. Releases the group cursors.
   */
  close(): Map<string, number> | null {
    const written = this.writtenOffsets();
    this.queue.clear();
    this.parked = null;
    this.replayWaiter?.();
    return written;
  }

  private admit(frame: OutboundFrame, intervalMs: number): void {
    if (this.owner.ended) return;
    const group = frame.group;
    if (intervalMs > 0 && group !== null) {
      if (this.queue.hold(group, frame)) this.services.batcher.add(group, intervalMs, this);
    } else {
      this.queue.push(frame);
      this.services.scheduler.markDirty(this);
    }
    this.checkLimit();
  }

  private checkLimit(): void {
    if (this.pendingBytes > this.services.config.maxOutboundBytes) this.owner.overflowed();
  }

  /** Stops parking `group`'s frames (null: every frame's), returning them; drops the buffers once none is parked. */
  private releaseParked(group: string | null): ParkedFrame[] {
    const parked = this.parked;
    if (parked === null) return [];
    const released = group === null ? parked.releaseAll() : parked.releaseGroup(group);
    if (parked.idle) this.parked = null;
    return released;
  }

  private dropMembership(group: string): void {
    const membership = this.memberships?.get(group);
    if (membership === undefined) return;
    this.memberships?.delete(group);
    if (this.memberships?.size === 0) this.memberships = null;
    this.services.delivery.releaseCursor(group, membership.cursor);
  }

  private writtenOffsets(): Map<string, number> | null {
    const memberships = this.memberships;
    if (memberships === null) return null;
    const unwritten = this.queue.unwrittenOffsets();
    this.parked?.lowestOffsets(unwritten);
    for (const [group, next] of this.replayPending ?? []) {
      const known = unwritten.get(group);
      if (known === undefined || next < known) unwritten.set(group, next);
    }
    const written = new Map<string, number>();
    for (const [group, membership] of memberships) {
      const lowest = unwritten.get(group);
      written.set(group, lowest !== undefined ? lowest - 1 : Math.max(membership.floor, membership.cursor.offset));
      this.services.delivery.releaseCursor(group, membership.cursor);
    }
    this.memberships = null;
    return written;
  }
}
