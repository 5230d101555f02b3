import { RoomsError, toRoomsError } from '@rooms-kit/core';
import type { RawFrame, Request } from '@rooms-kit/protocol/server';
import { CloseCode, decodeRequest, encodeErrorReply, encodeEvent } from '@rooms-kit/protocol/server';
import { GatewayStats } from '../gateway-stats.js';
import { OutboundFrame } from '../transports/outbound-frame.js';
import type { Outbox } from './outbox.js';
import { RateLimiter } from './rate-limiter.js';
import type { RequestOrigin } from './request-dispatcher.js';
import type { RequestTask } from './request-queue.js';
import type { SessionFate } from './session-lifecycle.js';
import type { SessionServices } from './session-services.js';
import { ViolationCounter } from './violation-counter.js';

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
 * What happens to a client's frame before and while it runs: the rate limit (docs/protocol.md "Limits": refused with
 * `RATE_LIMITED`, and a client over it for a second is closed with 4029), decoding (an invalid request gets its error
 * reply, and more than 20 within 10 s close with 4000), then the request itself, run by the dispatcher in the
 * session's request queue, its failure becoming an error reply. Every outcome is queued in arrival order, so
 * refusals and replies go out in the order the frames came. Created at the client's first frame (a fresh token
 * bucket then is exactly what one made at connect would hold); the invalid-request counter at its first invalid one.
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

  /** Takes one frame from the client (the session has not ended). */
  received(frame: RawFrame): void {
    const stats = this.services.stats;
    stats.framesIn++;
    const decision = this.limiter.take();
    if (decision === 'close') {
      GatewayStats.bump(stats.errors, 'RATE_LIMITED');
      this.owner.enqueue(() => {
        this.sendError(new RoomsError('RATE_LIMITED', 'rate limit exceeded repeatedly'));
        this.owner.close(CloseCode.RATE_LIMITED, 'suspend', 'rate limit exceeded');
      });
      return;
    }
    const decoded = decodeRequest(frame);
    const ref = decoded.ok ? (decoded.request.ref ?? null) : decoded.ref;
    if (decision === 'refuse') {
      this.owner.enqueue(() => this.replyError(ref, new RoomsError('RATE_LIMITED')));
      return;
    }
    if (!decoded.ok) {
      const tooMany = (this.violations ??= new ViolationCounter()).record();
      this.owner.enqueue(() => {
        this.replyError(ref, decoded.error);
        if (!tooMany) return;
        this.sendError(new RoomsError('BAD_REQUEST', 'too many invalid requests'));
        this.owner.close(CloseCode.PROTOCOL_VIOLATION, 'suspend', 'too many invalid requests');
      });
      return;
    }
    const request = decoded.request;
    this.owner.enqueue(() => this.execute(request));
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
