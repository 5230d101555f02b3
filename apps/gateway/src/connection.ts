import type { Duplex } from 'node:stream';
import type { GroupMessage, NodeManager } from '@rooms-kit/core';
import { RoomsError, toRoomsError } from '@rooms-kit/core';
import type { Request, Result, WelcomeEvent } from '@rooms-kit/protocol';
import { CloseCode, decodeRequest, encodeErrorReply, encodeEvent, encodeReply } from '@rooms-kit/protocol';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { Identity } from './auth.js';
import { MAX_TIMER_MS } from './config.js';
import type { GatewayConfig } from './config.js';
import type { DeliveryTarget, FanoutDelivery, GroupCursor } from './fanout-delivery.js';
import type { Flushable, FlushScheduler } from './flush-scheduler.js';
import { GatewayStats } from './gateway-stats.js';
import type { IntervalBatcher, IntervalHolder } from './interval-batcher.js';
import { OutboundFrame } from './outbound-frame.js';
import { OutboundQueue } from './outbound-queue.js';
import { ParkedFrames } from './parked-frames.js';
import type { ParkedFrame } from './parked-frames.js';
import { RateLimiter } from './rate-limiter.js';
import { REPLAY_PAGE_BYTES, replayHistory } from './replay-writer.js';
import type { ReplayTarget } from './replay-writer.js';
import type { RequestDispatcher, RequestOrigin } from './request-dispatcher.js';
import { RingQueue } from './ring-queue.js';
import { hashResumeToken, newResumeToken, newSessionId } from './session-tokens.js';
import type { SocketOwner } from './socket-router.js';
import { ViolationCounter } from './violation-counter.js';
import { wsErrorCloseCode } from './ws-error-close-code.js';

/** What the gateway gives each connection. */
export interface ConnectionServices {
  node: NodeManager;
  delivery: FanoutDelivery;
  dispatcher: RequestDispatcher;
  scheduler: FlushScheduler;
  batcher: IntervalBatcher;
  stats: GatewayStats;
  logger: Logger;
  config: Pick<GatewayConfig, 'rateLimit' | 'maxOutboundBytes' | 'heartbeatMs'>;
  /** Called once when the connection has ended (the gateway forgets it as a live connection). */
  onEnded(connection: Connection): void;
  /** Called when the connection holds its session with the kernel (registered or resumed). */
  onHolding(connection: Connection): void;
  /** Called once the session it held was settled with the kernel (or given up): it holds it no more. */
  onReleased(connection: Connection): void;
}

/**
 * What becomes of the session when its connection ends: `suspend` (resumable for the window), `end` (members get
 * `left` with reason `disconnect` at once), `forget` (nothing to do: kicked, taken over, refused resume, shutting down).
 */
export type SessionFate = 'suspend' | 'end' | 'forget';

/** Why the kernel ended a session a connection holds (NodeManager's `onSessionEnded`). */
export type SessionEndReason = 'taken' | 'kicked';

/** Requests queued beyond this pause reading from the socket (backpressure on pipelining clients). */
const PAUSE_AT = 256;
/** ... and reading resumes below this. */
const RESUME_AT = 64;
/** First size of a request queue (it grows as needed; most clients wait for a reply before the next request). */
const TASK_QUEUE_CAPACITY = 4;
/**
 * How long a client closed as a slow consumer (4008) gets to complete the close handshake before its socket is
 * destroyed: a client that does not read would otherwise keep its buffers for `ws`'s 30 s close timeout.
 */
export const SLOW_CLOSE_GRACE_MS = 1000;

type Task = () => Promise<void> | void;

/** What a connection tracks of one group it is a member of. */
interface Membership {
  /** The node's latest delivered offset of the group (shared with the other local members). */
  cursor: GroupCursor;
  /** The offset the client had when it became a member here (a join's offset, a resume's replay start). */
  floor: number;
}

/**
 * Connection: one client WebSocket and the session it carries. It runs the handshake (new session or resume, then
 * `welcome` first), executes the client's requests one at a time in arrival order (so a `join` then a `broadcast`
 * behave as sent), applies the rate limit and the invalid-request limit, queues every reply and event in the order
 * produced (flushed once per event-loop turn, or per interval for buffered groups), and settles the session when the
 * connection ends: a client close with 1000 ends it, any other drop suspends it with the offsets that really reached
 * the socket. Those are worked out when it ends, not tracked per message (the fan-out hot path): per group, one short
 * of the lowest offset still unwritten (queued, held, parked, or not yet replayed), else the latest offset the node
 * delivered for the group since the client became a member (the group's shared cursor; at least its join offset).
 *
 * Memory is bounded per connection: replays (resume, `join` with `since`) are written page by page at the client's
 * reading pace, and everything waiting for the client (queued, held, parked behind a replay, and in the socket's
 * buffer) counts against `ROOMS_MAX_OUTBOUND_BYTES`; over it the connection is closed with 4008 and its socket
 * destroyed if the client does not complete the close within {@link SLOW_CLOSE_GRACE_MS}.
 *
 * Memory of an idle connection is kept small (most connections of a gateway are idle): everything not needed
 * until the client does something is created on first use and dropped when done (membership and replay maps, the
 * parked-frame buffers, the request queue, the rate limiter and invalid-request counter, the `settled` promise), the
 * socket's events come through the gateway's shared {@link SocketOwner} listeners rather than per-connection
 * closures, and heartbeats are one gateway-wide interval calling {@link heartbeat}. The outbound queue, which every
 * delivery touches, is created up front so the fan-out hot path never checks for it.
 */
export class Connection implements Flushable, IntervalHolder, DeliveryTarget, RequestOrigin, ReplayTarget, SocketOwner {
  /** Owned by the flush scheduler. */
  dirty = false;
  /** False once a heartbeat ping went unanswered. */
  private alive = true;
  private sessionId = '';
  private readonly queue = new OutboundQueue();
  /** The groups the client is a member of, as far as this connection knows (null: none yet). */
  private memberships: Map<string, Membership> | null = null;
  /** Groups whose replay is not finished yet: the first offset not queued yet (null: none yet). */
  private replayPending: Map<string, number> | null = null;
  /** When ended: per group, the last message offset that reached the socket (null until ended). */
  private endOffsets: Map<string, number> | null = null;
  /** Live frames held back behind a replay (null until something is held back). */
  private parked: ParkedFrames | null = null;
  /** Requests waiting behind the one running (null while none waits). */
  private tasks: RingQueue<Task> | null = null;
  private running = false;
  private paused = false;
  /** The kernel knows the session (registered or resumed): it must be settled when the connection ends. */
  private registered = false;
  /** Reported to the gateway as holding the session (until released). */
  private holding = false;
  /** The kernel ended the session itself (taken over or kicked): nothing may be settled for it any more. */
  private lost = false;
  private handshaking = false;
  private settling = false;
  private fate: SessionFate | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private closeGraceTimer: NodeJS.Timeout | null = null;
  /** Resolves the replay waiting for its page to be written (see {@link writeAndWait}). */
  private replayWaiter: (() => void) | null = null;
  /** Created at the client's first frame (a fresh bucket then is exactly what one made at connect would hold). */
  private limiter: RateLimiter | null = null;
  /** Created at the client's first invalid request. */
  private violations: ViolationCounter | null = null;
  /** True once the session was settled with the kernel after the connection ended. */
  private isSettled = false;
  /** The promise {@link settled} handed out (created when first asked for). */
  private settledPromise: Promise<void> | null = null;
  private resolveSettled: (() => void) | null = null;

  /**
   * The connection does not listen to `ws` itself: the gateway routes the socket's events to its
   * {@link SocketOwner} methods (one set of listeners for all sockets).
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly identity: Identity,
    private readonly services: ConnectionServices,
  ) {
    this.armExpiry();
  }

  /** Resolves once the session was settled with the kernel after the connection ended (the same promise each time). */
  get settled(): Promise<void> {
    this.settledPromise ??= this.isSettled ? Promise.resolve() : new Promise<void>((resolve) => (this.resolveSettled = resolve));
    return this.settledPromise;
  }

  /** The session id ('' until the handshake chose it). */
  get session(): string {
    return this.sessionId;
  }

  /** True once the connection has ended. */
  get ended(): boolean {
    return this.fate !== null;
  }

  /** Bytes waiting for the client: queued, held, parked and in the socket's buffer (the slow-consumer measure). */
  get pendingBytes(): number {
    return this.queue.bytes + this.socket.writableLength + (this.parked?.bytes ?? 0);
  }

  // ---- handshake -----------------------------------------------------------------------------------------------

  /** Opens a new session: registers it and sends `welcome` with `resumed:false`. */
  startNew(): void {
    this.sessionId = newSessionId();
    const token = newResumeToken();
    const tokenHash = hashResumeToken(this.sessionId, token);
    this.services.delivery.attach(this.sessionId, this);
    this.handshake(async () => {
      const info: { user?: string; tokenHash: string } = { tokenHash };
      if (this.identity.user !== undefined) info.user = this.identity.user;
      try {
        await this.services.node.registerSession(this.sessionId, info);
      } finally {
        // Registered even when the call failed half-way: the session is then ended with the connection.
        if (this.services.node.hasSession(this.sessionId)) this.hold();
      }
      this.sendWelcome(token, false);
    });
  }

  /**
   * Resumes `session` with `token`: on success `welcome` with `resumed:true` and a fresh token, then each group's
   * missed messages in offset order, then the live frames that arrived meanwhile (minus those replayed). With auth
   * on, the token's user must be the session's (checked by the kernel before it takes anything). A connection still
   * holding the session (here or on another node) is taken over by the kernel (`onSessionEnded(…, 'taken')`).
   * Refused: close 4001.
   */
  startResume(session: string, token: string): void {
    this.sessionId = session;
    const presented = hashResumeToken(session, token);
    const fresh = newResumeToken();
    const freshHash = hashResumeToken(session, fresh);
    this.handshake(async () => {
      // Live frames for the session are parked from here until the replay is written.
      (this.parked ??= new ParkedFrames()).holdAll();
      this.services.delivery.attach(session, this);
      const expectedUser = this.identity.verified ? (this.identity.user ?? null) : undefined;
      const result = await this.services.node.resumeSession(session, presented, freshHash, expectedUser);
      if (result === null) return this.refuseResume();
      this.hold();
      for (const group of result.groups) {
        this.setOffset(group.group, group.since);
        (this.replayPending ??= new Map()).set(group.group, group.since + 1);
      }
      this.sendWelcome(fresh, true);
      const replayed = new Map<string, number>();
      for (const group of result.groups) replayed.set(group.group, await this.replay(group.group, group.since, group.messages));
      for (const entry of this.releaseParked(null)) {
        const upTo = entry.frame.group !== null ? (replayed.get(entry.frame.group) ?? 0) : 0;
        if (entry.frame.offset === 0 || entry.frame.offset > upTo) this.admit(entry.frame, entry.intervalMs);
      }
    });
  }

  /**
   * The kernel ended this connection's session itself: `taken` (resumed on another connection, here or on another
   * node) drops the connection, `kicked` closes it with 4003. Either way the session is not suspended nor ended
   * from here (it lives on elsewhere, or is gone), even when the connection had already dropped and was about to.
   */
  sessionEnded(reason: SessionEndReason): void {
    this.lost = true;
    if (reason === 'kicked') this.close(CloseCode.KICKED, 'forget', 'kicked');
    else this.terminate('forget');
  }

  /**
   * Runs the handshake as the connection's first task (requests that arrive meanwhile wait behind it). When the
   * connection ends while the handshake is in flight, the session is settled once the handshake is over.
   */
  private handshake(run: () => Promise<void>): void {
    this.handshaking = true;
    this.enqueueTask(async () => {
      try {
        await run();
      } catch (error) {
        this.failHandshake(error);
      } finally {
        this.handshaking = false;
        if (this.ended) this.settle();
      }
    });
  }

  private hold(): void {
    this.registered = true;
    if (this.holding) return;
    this.holding = true;
    this.services.onHolding(this);
  }

  private sendWelcome(token: string, resumed: boolean): void {
    const welcome: WelcomeEvent = {
      ev: 'welcome',
      session: this.sessionId,
      resumeToken: token,
      node: this.services.node.nodeId,
      heartbeatMs: this.services.config.heartbeatMs,
      resumed,
    };
    this.admit(new OutboundFrame(encodeEvent(welcome)), 0);
  }

  private refuseResume(): void {
    this.services.delivery.detach(this.sessionId, this);
    this.close(CloseCode.RESUME_FAILED, 'forget', 'resume failed');
  }

  private failHandshake(error: unknown): void {
    if (this.ended) return;
    const failure = toRoomsError(error);
    this.services.logger.warn({ err: error, session: this.sessionId }, 'handshake failed');
    this.sendEvent({ ev: 'error', error: failure.toWire() });
    this.close(1011, this.registered ? 'end' : 'forget', failure.code);
  }

  // ---- SocketOwner (the socket's events, routed by the gateway) -------------------------------------------------

  received(data: RawData): void {
    if (this.ended) return;
    const stats = this.services.stats;
    stats.framesIn++;
    const decision = (this.limiter ??= new RateLimiter(this.services.config.rateLimit)).take();
    if (decision === 'close') {
      GatewayStats.bump(stats.errors, 'RATE_LIMITED');
      this.enqueueTask(() => {
        this.sendEvent({ ev: 'error', error: new RoomsError('RATE_LIMITED', 'rate limit exceeded repeatedly').toWire() });
        this.close(CloseCode.RATE_LIMITED, 'suspend', 'rate limit exceeded');
      });
      return;
    }
    const decoded = decodeRequest(data);
    const ref = decoded.ok ? (decoded.request.ref ?? null) : decoded.ref;
    if (decision === 'refuse') {
      this.enqueueTask(() => this.replyError(ref, new RoomsError('RATE_LIMITED')));
      return;
    }
    if (!decoded.ok) {
      const tooMany = (this.violations ??= new ViolationCounter()).record();
      this.enqueueTask(() => {
        this.replyError(ref, decoded.error);
        if (!tooMany) return;
        this.sendEvent({ ev: 'error', error: new RoomsError('BAD_REQUEST', 'too many invalid requests').toWire() });
        this.close(CloseCode.PROTOCOL_VIOLATION, 'suspend', 'too many invalid requests');
      });
      return;
    }
    const request = decoded.request;
    this.enqueueTask(() => this.execute(request));
  }

  ponged(): void {
    this.alive = true;
  }

  socketError(error: Error): void {
    // `ws` closes by itself on protocol errors (e.g. 1009 for a frame over ROOMS_MAX_PAYLOAD): count those closes.
    const code = wsErrorCloseCode(error);
    if (code !== null && this.fate === null) GatewayStats.bump(this.services.stats.closes, code);
    this.services.logger.debug({ err: error, session: this.sessionId }, 'websocket error');
  }

  socketClosed(code: number): void {
    if (this.closeGraceTimer !== null) clearTimeout(this.closeGraceTimer);
    this.closeGraceTimer = null;
    this.end(code === CloseCode.NORMAL ? 'end' : 'suspend');
  }

  // ---- requests ------------------------------------------------------------------------------------------------

  private async execute(request: Request): Promise<void> {
    GatewayStats.bump(this.services.stats.requests, request.op);
    try {
      await this.services.dispatcher.dispatch(this, request);
    } catch (error) {
      this.replyError(request.ref ?? null, toRoomsError(error));
    }
  }

  /** Runs `task` now when nothing runs, else queues it behind the running one (the queue exists only meanwhile). */
  private enqueueTask(task: Task): void {
    if (!this.running) {
      void this.runTasks(task);
      return;
    }
    const tasks = (this.tasks ??= new RingQueue<Task>(TASK_QUEUE_CAPACITY));
    tasks.push(task);
    if (!this.paused && tasks.size > PAUSE_AT) {
      this.paused = true;
      this.ws.pause();
    }
  }

  private async runTasks(first: Task): Promise<void> {
    this.running = true;
    let task: Task | undefined = first;
    while (task !== undefined && !this.ended) {
      try {
        await task();
      } catch (error) {
        this.services.logger.error({ err: error, session: this.sessionId }, 'request task threw');
      }
      if (this.paused && (this.tasks?.size ?? 0) < RESUME_AT) {
        this.paused = false;
        this.ws.resume();
      }
      task = this.tasks?.shift();
    }
    this.tasks = null;
    this.running = false;
  }

  // ---- RequestOrigin -------------------------------------------------------------------------------------------

  reply(ref: number | undefined, result: Result): void {
    if (ref === undefined) return;
    this.admit(new OutboundFrame(encodeReply(ref, result)), 0);
  }

  private replyError(ref: number | null, error: RoomsError): void {
    GatewayStats.bump(this.services.stats.errors, error.code);
    if (error.code === 'INTERNAL') this.services.logger.error({ err: error.cause ?? error, session: this.sessionId }, 'request failed');
    this.admit(new OutboundFrame(encodeErrorReply(ref, error.toWire())), 0);
  }

  private sendEvent(event: Parameters<typeof encodeEvent>[0]): void {
    this.admit(new OutboundFrame(encodeEvent(event)), 0);
  }

  holdGroup(group: string): void {
    (this.parked ??= new ParkedFrames()).holdGroup(group);
  }

  releaseGroup(group: string, replayedUpTo: number): void {
    for (const entry of this.releaseParked(group)) {
      if (entry.frame.offset === 0 || entry.frame.offset > replayedUpTo) this.admit(entry.frame, entry.intervalMs);
    }
  }

  /** Stops parking `group`'s frames (null: every frame's), returning them; drops the buffers once none is parked. */
  private releaseParked(group: string | null): ParkedFrame[] {
    const parked = this.parked;
    if (parked === null) return [];
    const released = group === null ? parked.releaseAll() : parked.releaseGroup(group);
    if (parked.idle) this.parked = null;
    return released;
  }

  setOffset(group: string, offset: number): void {
    if (this.fate !== null) return;
    const memberships = (this.memberships ??= new Map());
    const known = memberships.get(group);
    if (known !== undefined) known.floor = offset;
    else memberships.set(group, { cursor: this.services.delivery.acquireCursor(group), floor: offset });
  }

  forgetGroup(group: string): void {
    this.dropMembership(group);
    // Frames of a buffered group still held would arrive after the leave reply.
    this.queue.dropHeld(group);
  }

  async replay(group: string, since: number, messages: readonly GroupMessage[]): Promise<number> {
    (this.replayPending ??= new Map()).set(group, since + 1);
    // A page well under the slow-consumer limit, so a replay to a client that reads never trips it.
    const pageBytes = Math.max(1, Math.min(REPLAY_PAGE_BYTES, Math.floor(this.services.config.maxOutboundBytes / 4)));
    try {
      return await replayHistory(this, group, since, messages, pageBytes);
    } finally {
      this.replayPending?.delete(group);
      if (this.replayPending?.size === 0) this.replayPending = null;
    }
  }

  // ---- ReplayTarget --------------------------------------------------------------------------------------------

  queueReplayed(frame: OutboundFrame): void {
    this.admit(frame, 0);
    if (frame.group !== null) (this.replayPending ??= new Map()).set(frame.group, frame.offset + 1);
  }

  writeAndWait(): Promise<void> {
    if (this.fate !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        if (this.replayWaiter === done) this.replayWaiter = null;
        resolve();
      };
      this.replayWaiter = done;
      if (this.queue.isEmpty) return done();
      // Closing (the client's close frame came in): the `close` event ends the connection, which calls `done`.
      if (this.ws.readyState !== this.ws.OPEN) return;
      this.services.stats.outboundBytes += this.queue.writeTo(this.socket, done);
    });
  }

  // ---- outbound ------------------------------------------------------------------------------------------------

  /** Queues a group event from the fan-out (parked while a handshake or join replay is in progress). */
  deliver(frame: OutboundFrame, intervalMs: number): void {
    if (this.fate !== null) return;
    if (this.parked !== null && this.parked.park(frame, intervalMs)) {
      this.checkOutbound();
      return;
    }
    this.admit(frame, intervalMs);
  }

  discarded(group: string): void {
    this.dropMembership(group);
  }

  private dropMembership(group: string): void {
    const membership = this.memberships?.get(group);
    if (membership === undefined) return;
    this.memberships?.delete(group);
    if (this.memberships?.size === 0) this.memberships = null;
    this.services.delivery.releaseCursor(group, membership.cursor);
  }

  private admit(frame: OutboundFrame, intervalMs: number): void {
    if (this.fate !== null) return;
    const group = frame.group;
    if (intervalMs > 0 && group !== null) {
      if (this.queue.hold(group, frame)) this.services.batcher.add(group, intervalMs, this);
    } else {
      this.queue.push(frame);
      this.services.scheduler.markDirty(this);
    }
    this.checkOutbound();
  }

  /** Closes with 4008 when what waits for the client (queued, held, parked, socket buffer) exceeds the limit. */
  private checkOutbound(): void {
    if (this.pendingBytes <= this.services.config.maxOutboundBytes) return;
    this.services.logger.warn({ session: this.sessionId }, 'slow consumer: outbound limit exceeded');
    this.close(CloseCode.SLOW_CONSUMER, 'suspend', 'slow consumer');
  }

  releaseHeld(group: string, reuse: OutboundFrame | null): OutboundFrame | null {
    if (this.fate !== null) return null;
    const batch = this.queue.releaseHeld(group, reuse);
    if (batch !== null) this.services.scheduler.markDirty(this);
    return batch;
  }

  flush(): void {
    if (this.fate !== null || this.queue.isEmpty) return;
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.services.stats.outboundBytes += this.queue.writeTo(this.socket);
  }

  // ---- liveness and closing ------------------------------------------------------------------------------------

  /** Heartbeat tick: drops the connection if the previous ping got no pong, else pings. */
  heartbeat(): void {
    if (this.fate !== null) return;
    if (!this.alive) {
      this.services.logger.debug({ session: this.sessionId }, 'heartbeat missed');
      this.terminate();
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      this.terminate();
    }
  }

  /**
   * Closes with `code` (after writing what is queued, except for a slow consumer) and settles the session by
   * `fate`. Idempotent: only the first close or drop counts.
   */
  close(code: number, fate: SessionFate, reason = ''): void {
    if (this.fate !== null) return;
    if (code !== CloseCode.NORMAL) GatewayStats.bump(this.services.stats.closes, code);
    // Replies and events produced before the close go out before the close frame.
    if (code !== CloseCode.SLOW_CONSUMER) this.flush();
    this.end(fate);
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
    if (code === CloseCode.SLOW_CONSUMER && this.ws.readyState !== this.ws.CLOSED) {
      this.closeGraceTimer = setTimeout(() => {
        this.closeGraceTimer = null;
        this.ws.terminate();
      }, SLOW_CLOSE_GRACE_MS);
    }
  }

  /** Drops the connection without a close frame; the session is suspended (resumable), as for any drop. */
  terminate(fate: SessionFate = 'suspend'): void {
    this.end(fate);
    this.ws.terminate();
  }

  private end(fate: SessionFate): void {
    if (this.fate !== null) return;
    this.fate = fate;
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (this.sessionId !== '') this.services.delivery.detach(this.sessionId, this);
    this.endOffsets = this.writtenOffsets();
    this.queue.clear();
    this.parked = null;
    if (this.paused) this.ws.resume();
    this.replayWaiter?.();
    this.services.onEnded(this);
    // A handshake still in flight settles the session itself when it completes.
    if (!this.handshaking) this.settle();
  }

  /** Tells the kernel what became of the session (once), then resolves `settled`. */
  private settle(): void {
    if (this.fate === null || this.settling) return;
    this.settling = true;
    if (!this.registered || this.fate === 'forget' || this.lost) {
      this.release();
      return;
    }
    const node = this.services.node;
    const session = this.sessionId;
    const fate = this.fate;
    const offsets: Record<string, number> = {};
    for (const group of node.groupsOf(session).groups) {
      const written = this.endOffsets?.get(group);
      if (written !== undefined) offsets[group] = written;
    }
    this.registered = false;
    // Deferred: an end can happen inside the kernel's own delivery (slow consumer), which must not be re-entered.
    Promise.resolve()
      .then(() => {
        // Taken over or kicked meanwhile: the session is not ours to settle any more.
        if (this.lost) return;
        return fate === 'end' ? node.unregisterSession(session, 'disconnect') : node.suspendSession(session, offsets);
      })
      .catch((error: unknown) => this.services.logger.warn({ err: error, session }, 'settling the session failed'))
      .finally(() => this.release());
  }

  private release(): void {
    if (this.holding) {
      this.holding = false;
      this.services.onReleased(this);
    }
    this.isSettled = true;
    this.resolveSettled?.();
    this.resolveSettled = null;
  }

  /**
   * Per group this connection is a member of, the last message offset that reached the socket, worked out when the
   * connection ends (before its queues are dropped; later messages were not delivered to it): one short of the
   * lowest offset not written yet (queued, held, parked, or still to be replayed), else the latest offset the node
   * delivered for the group, at least the one the client had when it became a member. Releases the cursors.
   */
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

  private armExpiry(): void {
    const expiresAt = this.identity.expiresAt;
    if (expiresAt === undefined) return;
    const delay = expiresAt - Date.now();
    if (delay <= 0) {
      queueMicrotask(() => this.close(CloseCode.POLICY, 'suspend', 'token expired'));
      return;
    }
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (delay > MAX_TIMER_MS) this.armExpiry();
      else this.close(CloseCode.POLICY, 'suspend', 'token expired');
    }, Math.min(delay, MAX_TIMER_MS));
  }
}
