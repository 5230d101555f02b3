import type { Duplex } from 'node:stream';
import type { GroupMessage, NodeManager } from '@rooms/core';
import { RoomsError, toRoomsError } from '@rooms/core';
import type { Request, Result, WelcomeEvent } from '@rooms/protocol';
import { CloseCode, decodeRequest, encodeErrorReply, encodeEvent, encodeMessageEvent, encodeReply } from '@rooms/protocol';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import type { Identity } from './auth.js';
import type { GatewayConfig } from './config.js';
import type { DeliveryTarget, FanoutDelivery } from './fanout-delivery.js';
import type { Flushable, FlushScheduler } from './flush-scheduler.js';
import { GatewayStats } from './gateway-stats.js';
import type { IntervalBatcher, IntervalHolder } from './interval-batcher.js';
import { OutboundFrame } from './outbound-frame.js';
import { OutboundQueue } from './outbound-queue.js';
import { RateLimiter } from './rate-limiter.js';
import type { RequestDispatcher, RequestOrigin } from './request-dispatcher.js';
import { hashResumeToken, newResumeToken, newSessionId, safeEqual } from './session-tokens.js';
import { ViolationCounter } from './violation-counter.js';

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
  /** Called once when the connection has ended (the gateway forgets it). */
  onEnded(connection: Connection): void;
}

/**
 * What becomes of the session when its connection ends: `suspend` (resumable for the window), `end` (members get
 * `left` with reason `disconnect` at once), `forget` (nothing to do: kicked, refused resume, or shutting down).
 */
export type SessionFate = 'suspend' | 'end' | 'forget';

/** Requests queued beyond this pause reading from the socket (backpressure on pipelining clients). */
const PAUSE_AT = 256;
/** ... and reading resumes below this. */
const RESUME_AT = 64;
/** Longest delay a Node timer holds. */
const MAX_TIMER_MS = 2_147_483_647;

interface Parked {
  frame: OutboundFrame;
  intervalMs: number;
}

type Task = () => Promise<void> | void;

/**
 * Connection: one client WebSocket and the session it carries. It runs the handshake (new session or resume, then
 * `welcome` first), executes the client's requests one at a time in arrival order (so a `join` then a `broadcast`
 * behave as sent), applies the rate limit and the invalid-request limit, queues every reply and event in the order
 * produced (flushed once per event-loop turn, or per interval for buffered groups), tracks per group the last
 * message offset queued to the client, and settles the session when the connection ends: a client close with 1000
 * ends it, any other drop suspends it with the offsets that really reached the socket.
 */
export class Connection implements Flushable, IntervalHolder, DeliveryTarget, RequestOrigin {
  /** Owned by the flush scheduler. */
  dirty = false;
  /** False once a heartbeat ping went unanswered. */
  private alive = true;
  private sessionId = '';
  private tokenHash = '';
  private readonly queue = new OutboundQueue();
  /** Per group, the last message offset queued (or known seen) for the client. */
  private readonly offsets = new Map<string, number>();
  private parkedAll: Parked[] | null = null;
  private parkedGroups: Map<string, Parked[]> | null = null;
  private tasks: Array<Task | undefined> = [];
  private taskHead = 0;
  private running = false;
  private paused = false;
  /** The kernel knows the session (registered or resumed): it must be settled when the connection ends. */
  private registered = false;
  private handshaking = false;
  private fate: SessionFate | null = null;
  private unwritten = new Map<string, number>();
  private expiryTimer: NodeJS.Timeout | null = null;
  /**
   * Extra outbound bytes allowed while a replay drains: a resume or `since` replay may legitimately queue far more
   * than the slow-consumer limit at once (bounded by the history), which is not a sign of a slow client. Cleared
   * once the socket has drained.
   */
  private replayAllowance = 0;
  private awaitingDrain = false;
  private readonly limiter: RateLimiter;
  private readonly violations = new ViolationCounter();
  private resolveSettled!: () => void;
  /** Resolves once the session was settled with the kernel after the connection ended. */
  readonly settled = new Promise<void>((resolve) => (this.resolveSettled = resolve));

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly identity: Identity,
    private readonly services: ConnectionServices,
  ) {
    this.limiter = new RateLimiter(services.config.rateLimit);
    ws.on('message', (data: RawData) => this.onFrame(data));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (error) => services.logger.debug({ err: error, session: this.sessionId }, 'websocket error'));
    ws.on('close', (code: number) => this.end(code === CloseCode.NORMAL ? 'end' : 'suspend'));
    this.armExpiry();
  }

  /** The session id ('' until the handshake chose it). */
  get session(): string {
    return this.sessionId;
  }

  /** True once the connection has ended. */
  get ended(): boolean {
    return this.fate !== null;
  }

  // ---- handshake -----------------------------------------------------------------------------------------------

  /** Opens a new session: registers it and sends `welcome` with `resumed:false`. */
  startNew(): void {
    this.sessionId = newSessionId();
    const token = newResumeToken();
    this.tokenHash = hashResumeToken(this.sessionId, token);
    this.services.delivery.attach(this.sessionId, this);
    this.handshake(async () => {
      const info: { user?: string; tokenHash: string } = { tokenHash: this.tokenHash };
      if (this.identity.user !== undefined) info.user = this.identity.user;
      try {
        await this.services.node.registerSession(this.sessionId, info);
      } finally {
        // Registered even when the call failed half-way: the session is then ended with the connection.
        this.registered = this.services.node.hasSession(this.sessionId);
      }
      this.sendWelcome(token, false);
    });
  }

  /**
   * Resumes `session` with `token`: on success `welcome` with `resumed:true` and a fresh token, then each group's
   * missed messages in offset order, then the live frames that arrived meanwhile (minus those replayed). A live
   * connection still holding the session here is taken over when the token matches (the client came back before
   * its old connection was found dead). Refused: close 4001.
   */
  startResume(session: string, token: string): void {
    this.sessionId = session;
    const presented = hashResumeToken(session, token);
    const fresh = newResumeToken();
    this.tokenHash = hashResumeToken(session, fresh);
    this.handshake(async () => {
      const holder = this.services.delivery.get(session);
      if (holder instanceof Connection && holder !== this) {
        if (!holder.matchesToken(presented)) return this.refuseResume();
        holder.terminate();
        await holder.settled;
        if (this.ended) return;
      }
      // Live frames for the session are parked from here until the replay is queued.
      this.parkedAll = [];
      this.services.delivery.attach(session, this);
      const result = await this.services.node.resumeSession(session, presented, this.tokenHash);
      if (result === null) return this.refuseResume();
      this.registered = true;
      for (const group of result.groups) this.offsets.set(group.group, group.since);
      this.sendWelcome(fresh, true);
      const replayed = new Map<string, number>();
      for (const group of result.groups) replayed.set(group.group, this.replay(group.group, group.since, group.messages));
      const parked = this.parkedAll ?? [];
      this.parkedAll = null;
      for (const entry of parked) {
        const upTo = entry.frame.group !== null ? (replayed.get(entry.frame.group) ?? 0) : 0;
        if (entry.frame.offset === 0 || entry.frame.offset > upTo) this.admit(entry.frame, entry.intervalMs);
      }
    });
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

  /** True when `hash` is the hash of this connection's current resume token. */
  matchesToken(hash: string): boolean {
    return this.tokenHash !== '' && safeEqual(hash, this.tokenHash);
  }

  // ---- requests ------------------------------------------------------------------------------------------------

  private onFrame(data: RawData): void {
    if (this.ended) return;
    const stats = this.services.stats;
    stats.framesIn++;
    const decision = this.limiter.take();
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
      const tooMany = this.violations.record();
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

  private async execute(request: Request): Promise<void> {
    GatewayStats.bump(this.services.stats.requests, request.op);
    try {
      await this.services.dispatcher.dispatch(this, request);
    } catch (error) {
      this.replyError(request.ref ?? null, toRoomsError(error));
    }
  }

  private enqueueTask(task: Task): void {
    this.tasks.push(task);
    if (!this.running) void this.runTasks();
    if (!this.paused && this.tasks.length - this.taskHead > PAUSE_AT) {
      this.paused = true;
      this.ws.pause();
    }
  }

  private async runTasks(): Promise<void> {
    this.running = true;
    while (!this.ended && this.taskHead < this.tasks.length) {
      const task = this.tasks[this.taskHead];
      this.tasks[this.taskHead++] = undefined;
      try {
        await task?.();
      } catch (error) {
        this.services.logger.error({ err: error, session: this.sessionId }, 'request task threw');
      }
      if (this.paused && this.tasks.length - this.taskHead < RESUME_AT) {
        this.paused = false;
        this.ws.resume();
      }
    }
    this.tasks = [];
    this.taskHead = 0;
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
    (this.parkedGroups ??= new Map()).set(group, []);
  }

  releaseGroup(group: string, replayedUpTo: number): void {
    const parked = this.parkedGroups?.get(group);
    if (!parked) return;
    this.parkedGroups?.delete(group);
    if (this.parkedGroups?.size === 0) this.parkedGroups = null;
    for (const entry of parked) {
      if (entry.frame.offset === 0 || entry.frame.offset > replayedUpTo) this.admit(entry.frame, entry.intervalMs);
    }
  }

  setOffset(group: string, offset: number): void {
    this.offsets.set(group, offset);
  }

  forgetGroup(group: string): void {
    this.offsets.delete(group);
  }

  replay(group: string, since: number, messages: readonly GroupMessage[]): number {
    let last = since;
    for (const message of messages) {
      if (message.offset <= last) continue;
      const frame = new OutboundFrame(encodeMessageEvent(group, message.from, message.data, message.offset), group, message.offset);
      this.replayAllowance += frame.bytes.length;
      this.admit(frame, 0);
      last = message.offset;
    }
    return last;
  }

  // ---- outbound ------------------------------------------------------------------------------------------------

  /** Queues a group event from the fan-out (parked while a handshake or join replay is in progress). */
  deliver(frame: OutboundFrame, intervalMs: number): void {
    if (this.fate !== null) return;
    if (this.parkedAll !== null) {
      this.parkedAll.push({ frame, intervalMs });
      return;
    }
    if (this.parkedGroups !== null && frame.group !== null) {
      const parked = this.parkedGroups.get(frame.group);
      if (parked) {
        parked.push({ frame, intervalMs });
        return;
      }
    }
    this.admit(frame, intervalMs);
  }

  private admit(frame: OutboundFrame, intervalMs: number): void {
    if (this.fate !== null) return;
    const group = frame.group;
    if (frame.offset > 0 && group !== null) this.offsets.set(group, frame.offset);
    if (intervalMs > 0 && group !== null) {
      if (this.queue.hold(group, frame)) this.services.batcher.add(group, intervalMs, this);
    } else {
      this.queue.push(frame);
      this.services.scheduler.markDirty(this);
    }
    if (this.queue.bytes + this.socket.writableLength > this.services.config.maxOutboundBytes + this.replayAllowance) {
      this.services.logger.warn({ session: this.sessionId }, 'slow consumer: outbound limit exceeded');
      this.close(CloseCode.SLOW_CONSUMER, 'suspend', 'slow consumer');
    }
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
    if (this.replayAllowance > 0) this.clearAllowanceOnDrain();
  }

  private clearAllowanceOnDrain(): void {
    if (!this.socket.writableNeedDrain) {
      this.replayAllowance = 0;
      return;
    }
    if (this.awaitingDrain) return;
    this.awaitingDrain = true;
    this.socket.once('drain', () => {
      this.awaitingDrain = false;
      this.replayAllowance = 0;
    });
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
   * Closes with `code` (after writing what is queued) and settles the session by `fate`. Idempotent: only the first
   * close or drop counts.
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
    this.unwritten = this.queue.unwrittenOffsets();
    this.queue.clear();
    this.parkedAll = null;
    this.parkedGroups = null;
    if (this.paused) this.ws.resume();
    this.services.onEnded(this);
    // A handshake still in flight settles the session itself when it completes.
    if (!this.handshaking) this.settle();
  }

  /** Tells the kernel what became of the session (once), then resolves `settled`. */
  private settle(): void {
    if (this.fate === null) return;
    if (!this.registered || this.fate === 'forget') {
      this.resolveSettled();
      return;
    }
    const node = this.services.node;
    const session = this.sessionId;
    const fate = this.fate;
    const offsets = this.writtenOffsets();
    this.registered = false;
    // Deferred: an end can happen inside the kernel's own delivery (slow consumer), which must not be re-entered.
    Promise.resolve()
      .then(() => (fate === 'end' ? node.unregisterSession(session, 'disconnect') : node.suspendSession(session, offsets)))
      .catch((error: unknown) => this.services.logger.warn({ err: error, session }, 'settling the session failed'))
      .finally(() => this.resolveSettled());
  }

  /** Per group of the session, the last message offset that reached the socket. */
  private writtenOffsets(): Record<string, number> {
    const result: Record<string, number> = {};
    for (const group of this.services.node.groupsOf(this.sessionId).groups) {
      const unwritten = this.unwritten.get(group);
      const known = unwritten !== undefined ? unwritten - 1 : this.offsets.get(group);
      if (known !== undefined) result[group] = known;
    }
    return result;
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
