import { RoomsError, toRoomsError } from '@rooms-kit/core';
import type { RawFrame, Request } from '@rooms-kit/protocol/server';
import { CloseCode, decodeRequest, encodeErrorReply, encodeEvent, peekRef } from '@rooms-kit/protocol/server';
import { GatewayStats } from '../gateway-stats.js';
import { OutboundFrame } from '../transports/outbound-frame.js';
import type { Outbox } from './outbox.js';
import { RateLimiter } from './rate-limiter.js';
import type { RequestOrigin } from './request-dispatcher.js';
import type { RequestTask } from './request-queue.js';
import type { SessionFate } from './session-lifecycle.js';
import type { SessionServices } from './session-services.js';
import { ViolationCounter } from './violation-counter.js';

/** The refusal of every binary frame (docs/protocol.md: no binary format is negotiated in v1). */
const BINARY_REFUSAL = Object.freeze({
  ok: false,
  ref: null,
  error: new RoomsError('BAD_REQUEST', 'binary frames are not accepted: send each request as a JSON text frame'),
} as const);

/** The session whose requests a {@link RequestIntake} takes in. */
export interface RequestIntakeOwner extends RequestOrigin {
  readonly outbox: Outbox;
  /** Runs `task` after the session's earlier tasks (its request queue, in arrival order). */
  enqueue(task: RequestTask): void;
  /** Closes the connection with `code` and settles the session by `fate`. */
  close(code: number, fate: SessionFate, reason: string): void;
}

/** The gateway services an intake uses. */
export type RequestIntakeServices = Pick<SessionServices, 'dispatcher' | 'stats' | 'logger' | 'config'>;

/**
 * What happens to a client's frame before and while it runs: the rate limit (docs/protocol.md "Limits": every frame
 * takes a token, WebSocket pings included; a data frame over it is refused with `RATE_LIMITED`, a ping over it gets
 * no pong, and a client over it for a second is closed with 4029), decoding (an invalid request, a binary frame
 * included, gets its error reply, and more than 20 within 10 s close with 4000), then the request itself, run by the
 * dispatcher in the session's request queue, its failure becoming an error reply. A frame refused by the rate limit
 * is never decoded: its reply's `ref` is read by `peekRef`, a scan that stops at the `ref`. Every outcome is queued in
 * arrival order, so refusals and replies go out in the order the frames came (a pong goes out at once: it is no
 * reply). Created at the client's first frame (a fresh token bucket then is exactly what one made at connect would
 * hold); the invalid-request counter at its first invalid one.
 */
export class RequestIntake {
  private readonly limiter: RateLimiter;
  private violations: ViolationCounter | null = null;

  constructor(
    private readonly owner: RequestIntakeOwner,
    private readonly services: RequestIntakeServices,
  ) {
    this.limiter = new RateLimiter(services.config.rateLimit);
  }

  /**
   * Takes one data frame from the client (the session has not ended). `binary`: it came as a binary WebSocket frame,
   * which no v1 format reads: `BAD_REQUEST` with `ref` null, an invalid request, never decoded or executed.
   */
  received(frame: RawFrame, binary = false): void {
    const stats = this.services.stats;
    stats.framesIn++;
    const decision = this.limiter.take();
    if (decision === 'close') return this.closeOverLimit();
    if (decision === 'refuse') {
      const ref = binary ? null : peekRef(frame);
      this.owner.enqueue(() => this.replyError(ref, new RoomsError('RATE_LIMITED')));
      return;
    }
    const decoded = binary ? BINARY_REFUSAL : decodeRequest(frame);
    if (!decoded.ok) return this.refuseInvalid(decoded.ref, decoded.error);
    const request = decoded.request;
    this.owner.enqueue(() => this.execute(request));
  }

  /**
   * Takes one WebSocket ping from the client (the session has not ended): it takes a token like any frame. True when
   * it is to be answered with a pong; false over the limit (no pong, and the 4029 close once over it for a second).
   */
  pinged(): boolean {
    this.services.stats.framesIn++;
    const decision = this.limiter.take();
    if (decision === 'close') this.closeOverLimit();
    return decision === 'allow';
  }

  private closeOverLimit(): void {
    GatewayStats.bump(this.services.stats.errors, 'RATE_LIMITED');
    this.owner.enqueue(() => {
      this.sendError(new RoomsError('RATE_LIMITED', 'rate limit exceeded repeatedly'));
      this.owner.close(CloseCode.RATE_LIMITED, 'suspend', 'rate limit exceeded');
    });
  }

  private refuseInvalid(ref: number | null, error: RoomsError): void {
    const tooMany = (this.violations ??= new ViolationCounter()).record();
    this.owner.enqueue(() => {
      this.replyError(ref, error);
      if (!tooMany) return;
      this.sendError(new RoomsError('BAD_REQUEST', 'too many invalid requests'));
      this.owner.close(CloseCode.PROTOCOL_VIOLATION, 'suspend', 'too many invalid requests');
    });
  }

  private async execute(request: Request): Promise<void> {
    GatewayStats.bump(this.services.stats.requests, request.op);
    try {
      await this.services.dispatcher.dispatch(this.owner, request);
    } catch (error) {
      this.replyError(request.ref ?? null, toRoomsError(error));
    }
  }

  private replyError(ref: number | null, error: RoomsError): void {
    GatewayStats.bump(this.services.stats.errors, error.code);
    if (error.code === 'INTERNAL') this.services.logger.error({ err: error.cause ?? error, session: this.owner.session }, 'request failed');
    this.owner.outbox.send(new OutboundFrame(encodeErrorReply(ref, error.toWire())));
  }

  /** Sends an `error` event (the connection is about to be closed for it). */
  private sendError(error: RoomsError): void {
    this.owner.outbox.send(new OutboundFrame(encodeEvent({ ev: 'error', error: error.toWire() })));
  }
}
