import { toRoomsError } from '@rooms-kit/core';
import type { RawFrame, WelcomeEvent } from '@rooms-kit/protocol/server';
import { CloseCode, encodeEvent } from '@rooms-kit/protocol/server';
import type { Identity } from '../auth.js';
import { MAX_TIMER_MS } from '../config.js';
import type { DeliveryTarget } from '../delivery/fanout-delivery.js';
import { GatewayStats } from '../gateway-stats.js';
import { hashResumeToken, newResumeToken, newSessionId } from '../session-tokens.js';
import { OutboundFrame } from '../transports/outbound-frame.js';
import type { Transport, TransportListener } from '../transports/transport.js';
import { Outbox } from './outbox.js';
import type { OutboxOwner } from './outbox.js';
import { RequestIntake } from './request-intake.js';
import type { RequestIntakeOwner } from './request-intake.js';
import { RequestQueue } from './request-queue.js';
import type { RequestQueueOwner, RequestTask } from './request-queue.js';
import { holdsSession, isLive, nextPhase, settlementOf } from './session-lifecycle.js';
import type { LifecycleEvent, SessionEnding, SessionPhase } from './session-lifecycle.js';
import type { RegisteredSession, SessionEndReason } from './session-registry.js';
import { settleWithKernel } from './session-settlement.js';
import type { SessionServices } from './session-services.js';

/**
 * ClientSession: one client's session on one connection, whatever transport carries it. It runs the handshake (a
 * new session or a resume, `welcome` first), runs the client's requests one at a time in arrival order (its
 * {@link RequestIntake}: rate limit, invalid-request limit), sends replies and events through its {@link Outbox}
 * (byte limit 4008, parking, replay pages), drops a client that misses a heartbeat, and when the connection ends
 * settles the session with the kernel by its fate: a client close with 1000 ends it, any other drop suspends it
 * with the offsets that really reached the client, and a session the kernel ended itself (`taken`, `kicked`) is left
 * alone.
 *
 * Its lifecycle, fate included, is one value: the {@link SessionPhase} of `session-lifecycle.ts`. While a resume
 * waits for the kernel to check its token, the live connection it would take over keeps getting every event (see
 * {@link deliver}): a refused resume costs that connection nothing. Memory of an idle session is kept small (most
 * sessions of a gateway are idle): what only a client's requests need (the request queue, the intake with its rate
 * limiter, memberships, replay state, parked frames, the `settled` promise) is created on first use and dropped when
 * done, the transport's events come through listeners shared by all connections, and heartbeats are one
 * gateway-wide interval calling {@link heartbeat}.
 */
export class ClientSession
  implements DeliveryTarget, RequestIntakeOwner, RegisteredSession<ClientSession>, TransportListener, RequestQueueOwner, OutboxOwner
{
  /** Owned by the session registry. */
  displaced: ClientSession | null = null;
  readonly outbox: Outbox;
  private id = '';
  private phase: SessionPhase = 'accepted';
  /** When ended: per group, the last message offset that reached the client (null until ended, or no group). */
  private endOffsets: Map<string, number> | null = null;
  /** Created at the client's first frame. */
  private intake: RequestIntake | null = null;
  /** Runs the handshake and the client's requests in order: exists only while one runs or waits. */
  private requests: RequestQueue | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  /** The promise {@link settled} handed out (created when first asked for). */
  private settledPromise: Promise<void> | null = null;
  private resolveSettled: (() => void) | null = null;

  constructor(
    readonly transport: Transport,
    private readonly identity: Identity,
    private readonly services: SessionServices,
  ) {
    this.outbox = new Outbox(this, transport, services);
    transport.bind(this);
    this.armExpiry();
  }

  /** The session id ('' until the handshake chose it). */
  get session(): string {
    return this.id;
  }

  /** True once the connection has ended. */
  get ended(): boolean {
    return !isLive(this.phase);
  }

  /**
   * True while events for the session are taken: the connection is live, or (a resume not held yet) the connection
   * it would take over may be. Read by the fan-out for every recipient before anything is encoded.
   */
  get receiving(): boolean {
    return isLive(this.phase) || this.displaced !== null;
  }

  /** True while the kernel holds the session for this connection. */
  get holding(): boolean {
    return holdsSession(this.phase);
  }

  /** Resolves once the session was settled with the kernel after the connection ended (the same promise each time). */
  get settled(): Promise<void> {
    this.settledPromise ??= this.phase === 'settled' ? Promise.resolve() : new Promise<void>((resolve) => (this.resolveSettled = resolve));
    return this.settledPromise;
  }

  /** Bytes waiting for the client (see {@link Outbox.pendingBytes}). */
  get pendingBytes(): number {
    return this.outbox.pendingBytes;
  }

  // ---- handshake -----------------------------------------------------------------------------------------------

  /** Opens a new session: registers it and sends `welcome` with `resumed:false`. */
  startNew(): void {
    this.id = newSessionId();
    const token = newResumeToken();
    const tokenHash = hashResumeToken(this.id, token);
    this.services.registry.claim(this.id, this);
    this.handshake(async () => {
      const info: { user?: string; tokenHash: string } = { tokenHash };
      if (this.identity.user !== undefined) info.user = this.identity.user;
      try {
        await this.services.node.registerSession(this.id, info);
      } catch (error) {
        // Registered even when the call failed half-way: the session is then ended with the connection.
        if (this.services.node.hasSession(this.id)) this.hold();
        throw error;
      }
      this.hold();
      this.sendWelcome(token, false);
    });
  }

  /**
   * Resumes `session` with `token`: on success `welcome` with `resumed:true` and a fresh token, then each group's
   * missed messages in offset order, then the live frames that arrived meanwhile (minus those replayed). With auth
   * on, the token's user must be the session's (checked by the kernel before it takes anything). A connection still
   * holding the session (here or on another node) is taken over by the kernel (`onSessionEnded(…, 'taken')`); until
   * then a connection here that holds it gets every event too (see {@link deliver}). Refused: close 4001, and that
   * connection goes on as if nothing happened.
   */
  startResume(session: string, token: string): void {
    this.id = session;
    const presented = hashResumeToken(session, token);
    const fresh = newResumeToken();
    const freshHash = hashResumeToken(session, fresh);
    // Live frames for the session are parked from here until the replay is written.
    this.outbox.holdAll();
    this.services.registry.claim(session, this);
    this.handshake(async () => {
      const expectedUser = this.identity.verified ? (this.identity.user ?? null) : undefined;
      const result = await this.services.node.resumeSession(session, presented, freshHash, expectedUser);
      if (result === null) return this.close(CloseCode.RESUME_FAILED, 'forget', 'resume failed');
      this.hold();
      for (const group of result.groups) {
        this.outbox.setOffset(group.group, group.since);
        this.outbox.awaitReplay(group.group, group.since);
      }
      this.sendWelcome(fresh, true);
      const replayed = new Map<string, number>();
      for (const group of result.groups) replayed.set(group.group, await this.outbox.replay(group.group, group.since, group.messages));
      this.outbox.releaseAll(replayed);
    });
  }

  /** Refuses the session the connection asked for (a malformed resume request) with 4001. */
  refuse(reason: string): void {
    this.close(CloseCode.RESUME_FAILED, 'forget', reason);
  }

  /**
   * The kernel ended this connection's session itself: `taken` (resumed on another connection, here or on another
   * node) drops the connection, `kicked` closes it with 4003. Either way the session is not suspended nor ended
   * from here (it lives on elsewhere, or is gone), even when the connection had already dropped and was about to.
   */
  sessionEnded(reason: SessionEndReason): void {
    if (reason === 'kicked') this.close(CloseCode.KICKED, 'kicked', 'kicked');
    else this.terminate('taken');
  }

  /**
   * Runs the handshake as the session's first task (requests that arrive meanwhile wait behind it). When the
   * connection ends while the handshake is in flight, the session is settled once the handshake is over.
   */
  private handshake(run: () => Promise<void>): void {
    this.advance('begin');
    this.enqueue(async () => {
      try {
        await run();
      } catch (error) {
        this.failHandshake(error);
      } finally {
        this.advance('handshake-done');
      }
    });
  }

  /** The kernel holds the session for this connection now (registered or resumed). */
  private hold(): void {
    this.advance('hold');
    this.services.registry.held(this);
  }

  private sendWelcome(token: string, resumed: boolean): void {
    const welcome: WelcomeEvent = {
      ev: 'welcome',
      session: this.id,
      resumeToken: token,
      node: this.services.node.nodeId,
      heartbeatMs: this.services.config.heartbeatMs,
      resumed,
    };
    this.outbox.send(new OutboundFrame(encodeEvent(welcome)));
  }

  private failHandshake(error: unknown): void {
    if (this.ended) return;
    const failure = toRoomsError(error);
    this.services.logger.warn({ err: error, session: this.id }, 'handshake failed');
    this.sendEvent({ ev: 'error', error: failure.toWire() });
    this.close(1011, this.holding ? 'end' : 'forget', failure.code);
  }

  // ---- TransportListener -----------------------------------------------------------------------------------------

  received(frame: RawFrame, binary: boolean): void {
    if (this.ended) return;
    (this.intake ??= new RequestIntake(this, this.services)).received(frame, binary);
  }

  pinged(): boolean {
    if (this.ended) return false;
    return (this.intake ??= new RequestIntake(this, this.services)).pinged();
  }

  failed(error: Error, closeCode: number | null): void {
    // A close the transport started itself (e.g. 1009) is counted like the gateway's own.
    if (closeCode !== null && !this.ended) GatewayStats.bump(this.services.stats.closes, closeCode);
    this.services.logger.debug({ err: error, session: this.id }, `${this.transport.kind} transport error`);
  }

  closed(code: number): void {
    this.advance(code === CloseCode.NORMAL ? 'end' : 'suspend');
  }

  private sendEvent(event: Parameters<typeof encodeEvent>[0]): void {
    this.outbox.send(new OutboundFrame(encodeEvent(event)));
  }

  // ---- DeliveryTarget (the fan-out's view) -----------------------------------------------------------------------

  /**
   * Queues a group event. A resume not held yet also hands it to the connection it would take over (`displaced`,
   * until the kernel took the session from it, refused the resume, or that connection was settled): the kernel may
   * still refuse the resume, and that connection must then have had every event, in order, with its offsets right.
   * This one parks it meanwhile, for after its welcome and replay.
   */
  deliver(frame: OutboundFrame, intervalMs: number): void {
    const displaced = this.displaced;
    if (displaced !== null) {
      if (displaced.receiving) displaced.deliver(frame, intervalMs);
      if (this.ended) return;
    }
    this.outbox.deliver(frame, intervalMs);
  }

  discarded(group: string): void {
    this.displaced?.discarded(group);
    this.outbox.discarded(group);
  }

  // ---- RequestIntakeOwner, RequestQueueOwner and OutboxOwner ---------------------------------------------------

  enqueue(task: RequestTask): void {
    (this.requests ??= new RequestQueue(this)).enqueue(task);
  }

  drained(): void {
    this.requests = null;
  }

  pauseReading(): void {
    this.transport.pauseReading();
  }

  resumeReading(): void {
    this.transport.resumeReading();
  }

  taskFailed(error: unknown): void {
    this.services.logger.error({ err: error, session: this.id }, 'request task threw');
  }

  overflowed(): void {
    this.services.logger.warn({ session: this.id }, 'slow consumer: outbound limit exceeded');
    this.close(CloseCode.SLOW_CONSUMER, 'suspend', 'slow consumer');
  }

  // ---- liveness and ending ---------------------------------------------------------------------------------------

  /** Heartbeat tick: drops the connection when the client missed the previous keepalive, else sends the next. */
  heartbeat(): void {
    if (this.ended || this.transport.keepalive()) return;
    this.services.logger.debug({ session: this.id }, 'heartbeat missed');
    this.terminate();
  }

  /**
   * Closes with `code` (after writing what is queued, except for a slow consumer) and settles the session by `how`
   * (a fate, or the kernel's own end: nothing to settle). Idempotent: only the first close or drop counts, except
   * that the kernel's `taken`/`kicked` after it still leave the session to the kernel.
   */
  close(code: number, how: SessionEnding, reason = ''): void {
    if (this.ended) {
      this.advance(how);
      return;
    }
    if (code !== CloseCode.NORMAL) GatewayStats.bump(this.services.stats.closes, code);
    // Replies and events produced before the close go out before the close frame.
    if (code !== CloseCode.SLOW_CONSUMER) this.outbox.flush();
    this.advance(how);
    this.transport.close(code, reason);
  }

  /**
   * Drops the connection without a close code and settles the session by `how`: by default suspended (resumable), as
   * for any drop. The transport is dropped even when the connection had ended already (a close handshake running).
   */
  terminate(how: SessionEnding = 'suspend'): void {
    this.advance(how);
    this.transport.terminate();
  }

  private advance(event: LifecycleEvent): void {
    const from = this.phase;
    const to = nextPhase(from, event);
    if (to === from) return;
    this.phase = to;
    // A handshake still in flight settles the session itself when it completes (the phase waits for it).
    if (isLive(from) && !isLive(to)) this.connectionEnded();
    const settlement = settlementOf(to);
    if (settlement !== null) this.settle(to, settlement);
    else if (to === 'settled') this.release();
  }

  /** The connection ended: stops what only a live connection needs and works out what reached the client. */
  private connectionEnded(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.endOffsets = this.outbox.close();
    this.requests?.stop();
    this.services.onEnded(this);
  }

  /** Tells the kernel to suspend or end the session (entered `phase` for it), then it is settled. */
  private settle(phase: SessionPhase, fate: 'suspend' | 'end'): void {
    // Taken over or kicked meanwhile (the phase moved on to `settled`): the session is not ours to settle any more.
    const stillOurs = (): boolean => this.phase === phase;
    const { node, logger } = this.services;
    void settleWithKernel(node, this.id, fate, this.endOffsets, stillOurs, logger).then(() => this.advance('settle-done'));
  }

  private release(): void {
    if (this.id !== '') this.services.registry.release(this.id, this);
    this.resolveSettled?.();
    this.resolveSettled = null;
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
