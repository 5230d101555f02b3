import type { RawFrame } from '@rooms-kit/protocol/server';
import type { OutboundFrame } from './outbound-frame.js';

/** The kinds of transport a client session can be carried by (docs/protocol.md: WebSocket in v1). */
export type TransportKind = 'websocket';

/**
 * How one transport kind puts a server frame's JSON text on its wire. `encode` must be pure: its result is built
 * once per frame and shared by every recipient of that kind (see {@link OutboundFrame.encoded}), so one object per
 * kind, compared by identity.
 */
export interface WireEncoding {
  readonly kind: TransportKind;
  /** The bytes of one server frame whose JSON text is `json`. */
  encode(json: string): Buffer;
}

/**
 * What a transport reports to the session it carries ({@link Transport.bind}). Every method must not throw.
 */
export interface TransportListener {
  /**
   * One request from the client, as the transport received it: a WebSocket message, or one request's JSON text of
   * an HTTP body. The session applies the rate limit, decodes and queues it. `binary`: a WebSocket binary message,
   * which the session refuses (`BAD_REQUEST`, ref null) without reading it.
   */
  received(frame: RawFrame, binary: boolean): void;
  /**
   * A transport-level ping from the client (a WebSocket ping frame): it counts against the rate limit like any frame.
   * True when the transport is to answer it (pong); false when the client is over the limit (no answer).
   */
  pinged(): boolean;
  /**
   * The transport failed: `closeCode` is the code it closes the connection with by itself (e.g. 1009 for a frame
   * over the payload limit), null when it drops without one. `closed` follows.
   */
  failed(error: Error, closeCode: number | null): void;
  /**
   * The connection is gone (nothing more comes from the transport): `code` 1000 means the client ended its session,
   * any other code a drop (the session stays resumable).
   */
  closed(code: number): void;
}

/**
 * Transport: how the frames of one client connection travel, apart from what they mean. The client session
 * (`session/client-session.ts`) owns every policy — handshake, request order, the outbox and its byte limit,
 * replay pages, heartbeats, ending and settling — and talks to its connection only through this interface, so a
 * transport is one file that moves bytes.
 *
 * Contract: `write` sends frames in order (one batch: a WebSocket corks it into one system call);
 * `bufferedBytes` is what was written but has not reached the client yet (it counts against the slow-consumer
 * limit); `pauseReading`/`resumeReading` stop and restart the intake of requests (backpressure on a client that
 * pipelines); `keepalive` is one heartbeat tick; `close` ends the connection with a close code after what was
 * written, `terminate` drops it at once. None of them throws. Events go to the {@link TransportListener} bound once.
 *
 * The HTTP transports of docs/protocol.md ("Planned (v1.1)") fit as one file each, with the same session:
 * - SSE (`GET /v1/sse` + `POST /v1/send`): `encoding` writes `data: <json>\n\n`; `write` writes to the response
 *   stream (`bufferedBytes`: its `writableLength`); `keepalive` writes the `: ping` comment and reports false only
 *   when the stream broke; `close` writes `event: close` with `{"code","reason"}` and ends the response; reading
 *   is the `POST /v1/send` endpoint, which passes each request of its body to the session's `received` (so
 *   `pauseReading` holds those bodies back).
 * - Long-polling (`GET /v1/poll`): `encoding` is the JSON text itself; `write` appends to the batch waiting for the
 *   next poll (and answers a poll that waits); a batch is kept until a poll acknowledges its `seq`, and only then
 *   are `write`'s `onWritten` callbacks called (a replay goes at the client's polling pace); `bufferedBytes` counts
 *   the unacknowledged and waiting batches; it has no socket of its own between polls, so `keepalive` reports false
 *   once no poll came for the poll wait plus `heartbeatMs`; `close` puts `close` in the last answer.
 * A welcome names the transport kind for those (`"transport":"sse"`); the `connection` credential can carry the
 * session id, so the session registry finds the session (and a peer node the node holding it) without a second map.
 */
export interface Transport {
  /** Which transport this is. */
  readonly kind: TransportKind;
  /** How frames are put on this transport's wire (shared by every transport of the kind). */
  readonly encoding: WireEncoding;
  /** True while `write` reaches the client (false once closing or closed). */
  readonly writable: boolean;
  /** Bytes written but not taken by the client yet (e.g. the socket's buffer). */
  readonly bufferedBytes: number;
  /** Routes the transport's events to `listener` from now on. Called once, before anything is written. */
  bind(listener: TransportListener): void;
  /**
   * Writes `frames` in order, as one batch. `onWritten`, when given, is called once the last of them was handed on
   * to the client (or the transport failed or closed meanwhile). Only while `writable`.
   */
  write(frames: readonly OutboundFrame[], onWritten?: () => void): void;
  /** Stops taking requests from the client until {@link resumeReading}. */
  pauseReading(): void;
  /** Takes requests again after {@link pauseReading}. */
  resumeReading(): void;
  /**
   * One heartbeat tick: checks that the client answered the previous keepalive and sends the next one. False when
   * the client is gone (it missed the previous one, or this one could not be sent): the session drops it.
   */
  keepalive(): boolean;
  /** Closes with `code` and `reason` once what was written went out. Idempotent. */
  close(code: number, reason: string): void;
  /** Drops the connection at once, without a close code. Idempotent. */
  terminate(): void;
}
