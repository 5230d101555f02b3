import type { ErrorCode } from '@rooms-kit/core';

/** The HTTP status that answers each catalog code (admin API, and later the HTTP transports). */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  BAD_REQUEST: 400,
  UNKNOWN_OP: 400,
  GROUP_NOT_FOUND: 404,
  GROUP_EXISTS: 409,
  NOT_MEMBER: 409,
  GROUP_FULL: 409,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  NODE_DRAINING: 503,
  UNAVAILABLE: 503,
  SESSION_NOT_FOUND: 404,
  INTERNAL: 500,
});
