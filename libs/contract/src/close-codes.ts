/**
 * WebSocket close codes of protocol v1 (docs/protocol.md, "Close codes"). A close with any code but `NORMAL` leaves the
 * session resumable, except `KICKED` (the session ends) and `RESUME_FAILED` (there is no session to resume).
 */
export const CloseCode = {
  /** Normal close; from the client it ends the session at once. */
  NORMAL: 1000,
  /** The server is shutting down (draining): reconnect, with resume, to another node. */
  GOING_AWAY: 1001,
  /** Policy: authentication failed or the token expired. */
  POLICY: 1008,
  /** A frame was larger than the server's `ROOMS_MAX_PAYLOAD`. */
  TOO_LARGE: 1009,
  /** Protocol violation: too many invalid requests. */
  PROTOCOL_VIOLATION: 4000,
  /** The resume was refused (wrong token, unknown session or window over): connect afresh. */
  RESUME_FAILED: 4001,
  /** Kicked by the admin API: the session has ended and cannot be resumed. */
  KICKED: 4003,
  /** Slow consumer: the outbound buffer limit was exceeded. */
  SLOW_CONSUMER: 4008,
  /** The rate limit was exceeded repeatedly. */
  RATE_LIMITED: 4029,
} as const;

/** One of the {@link CloseCode} values. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
