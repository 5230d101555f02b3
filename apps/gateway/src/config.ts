import { randomBytes } from 'node:crypto';
import { DEFAULT_LIMITS, isValidGroupId } from '@rooms-kit/contract';
import { parseRedisUrl } from '@rooms-kit/redis';
import { parseAllowedOrigins } from './http/origin-policy.js';

/** Log levels `ROOMS_LOG_LEVEL` accepts (pino's, plus `silent`). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The gateway's configuration, read from the environment by {@link loadConfig}. Every field of docs/protocol.md's
 * "Running a node" table, plus three additions of the gateway:
 * - `ROOMS_HEARTBEAT_MS` (`heartbeatMs`, default 25000): WebSocket ping interval; a connection that did not answer
 *   the previous ping when the next is due is dropped (its session stays resumable). Sent in `welcome`.
 * - `ROOMS_MAX_OUTBOUND_BYTES` (`maxOutboundBytes`, default 1 MiB): slow-consumer limit; a connection whose unsent
 *   bytes (queued in the gateway, parked behind a replay, plus buffered in its socket) exceed it is closed with 4008.
 * - `ROOMS_MAX_GROUPS_PER_SESSION` (`maxGroupsPerSession`, default 1000, 0 = unlimited): a session already in that
 *   many groups gets `FORBIDDEN` for a further `join` or joining `create`.
 * - `ROOMS_MAX_CREATED_GROUPS_PER_SESSION` (`maxCreatedGroupsPerSession`, default 100, 0 = unlimited): a session that
 *   created that many groups this node still supervises (joined or not) gets `FORBIDDEN` for a further `create`.
 * - `ROOMS_MAX_GROUPS` (`maxGroups`, default 100000, 0 = unlimited): a node supervising that many groups answers a
 *   further `create` with `UNAVAILABLE` (temporary).
 * - `ROOMS_MAX_MEMBER_DATA_BYTES` (`maxMemberDataBytes`, default 4096) and `ROOMS_MAX_META_BYTES` (`maxMetaBytes`,
 *   default 4096): the largest member `data` (create, join, leave) and group `meta`, as JSON in UTF-8 bytes; beyond
 *   it `PAYLOAD_TOO_LARGE`.
 * - `ROOMS_HISTORY_MAX_BYTES` (`historyMaxBytes`, default 1 MiB): the bytes of messages (their `data` as JSON) each
 *   group's history keeps, next to its 1000 messages; older ones are dropped, and a replay from before them is
 *   incomplete.
 * - `ROOMS_MAX_CONNECTIONS` (`maxConnections`, default 10000) and `ROOMS_MAX_CONNECTIONS_PER_IP`
 *   (`maxConnectionsPerIp`, default 1000): open TCP connections (HTTP and WebSocket alike) the node holds in all and
 *   from one remote address; a connection beyond either is closed at once, before anything is read.
 * - `ROOMS_HEADERS_TIMEOUT_MS` (`headersTimeoutMs`, default 10000, at most 30000): how long a client has to send a
 *   request's headers (a slowloris socket is closed within about a second after it); the rest of a request must
 *   arrive within 30 s of its start, and an idle keep-alive connection is closed after 5 s (fixed, `http/http-server.ts`).
 * - `ROOMS_JWT_AUDIENCE`, `ROOMS_JWT_ISSUER` (`jwtAudience`, `jwtIssuer`, default unset): when set, a token must carry
 *   that `aud` (one of its audiences) or that `iss`. `ROOMS_JWT_REQUIRE_EXP` (`jwtRequireExp`, `true` or `false`,
 *   default `false` for v1's tokens): when true, a token without `exp` is refused.
 * - `ROOMS_CORS_ORIGINS` (`corsOrigins`, default unset = null): comma-separated origins `scheme://host[:port]`
 *   (normalized: lower case, default port dropped) or `*` alone (`['*']`). When set, a WebSocket upgrade whose
 *   `Origin` is present and not listed gets 403; unset, the upgrade is not checked (v1). See `http/origin-policy.ts`.
 *
 * `ROOMS_JWT_SECRET` and `ROOMS_ADMIN_TOKEN` must be at least {@link MIN_SECRET_BYTES} bytes (UTF-8).
 */
export interface GatewayConfig {
  port: number;
  host: string;
  redisUrl: string | null;
  nodeId: string;
  emptyGraceMs: number;
  resumeWindowMs: number;
  nodeTtlMs: number;
  maxPayload: number;
  rateLimit: number;
  staticGroups: string[];
  jwtSecret: string | null;
  jwtAudience: string | null;
  jwtIssuer: string | null;
  jwtRequireExp: boolean;
  adminToken: string | null;
  logLevel: LogLevel;
  heartbeatMs: number;
  maxOutboundBytes: number;
  maxGroupsPerSession: number;
  maxCreatedGroupsPerSession: number;
  maxGroups: number;
  maxMemberDataBytes: number;
  maxMetaBytes: number;
  historyMaxBytes: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  headersTimeoutMs: number;
  corsOrigins: string[] | null;
}

/** A wrong environment value. The message names the variable (`ROOMS_MAX_PAYLOAD: expected ...`). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

/** Largest delay a Node timer holds; longer durations would fire at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The shortest `ROOMS_JWT_SECRET` and `ROOMS_ADMIN_TOKEN` accepted, in UTF-8 bytes: 256 bits, the HS256 key size
 * RFC 7518 asks for; a shorter secret can be brute-forced offline from one token.
 */
export const MIN_SECRET_BYTES = 32;

/** The largest `ROOMS_HEADERS_TIMEOUT_MS`: the server's request timeout (30 s), which node wants no shorter. */
export const MAX_HEADERS_TIMEOUT_MS = 30_000;
const NODE_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Reads and validates the configuration from `env` (pure: tests pass their own). Unset variables, and variables set
 * to the empty string, take docs/protocol.md's defaults, except `ROOMS_JWT_SECRET` and `ROOMS_ADMIN_TOKEN`, where an
 * empty value is refused rather than silently turning auth off. Throws {@link ConfigError} naming the first wrong
 * variable.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): GatewayConfig {
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${raw}`);
    return value;
  };
  const secret = (name: string): string | null => {
    const value = env[name];
    if (value === undefined) return null;
    if (value === '') throw new ConfigError(name, 'must not be empty (unset it instead)');
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes < MIN_SECRET_BYTES) throw new ConfigError(name, `must be at least ${MIN_SECRET_BYTES} bytes (UTF-8), got ${bytes}`);
    return value;
  };
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, `expected true or false, got ${JSON.stringify(raw)}`);
    return raw === 'true';
  };

  const host = read('HOST') ?? '0.0.0.0';
  const redisUrl = read('ROOMS_REDIS_URL') ?? null;
  if (redisUrl !== null) {
    try {
      parseRedisUrl(redisUrl);
    } catch (error) {
      throw new ConfigError('ROOMS_REDIS_URL', error instanceof Error ? error.message : 'invalid Redis URL');
    }
  }
  const nodeId = read('ROOMS_NODE_ID') ?? `node-${randomBytes(9).toString('base64url')}`;
  if (!NODE_ID_PATTERN.test(nodeId)) {
    throw new ConfigError('ROOMS_NODE_ID', 'expected 1 to 128 characters of letters, digits and _ . : -');
  }
  const rawRate = read('ROOMS_RATE_LIMIT');
  let rateLimit: number = DEFAULT_LIMITS.rateLimitPerSecond;
  if (rawRate !== undefined) {
    rateLimit = Number(rawRate);
    if (!/^\d+(\.\d+)?$/.test(rawRate) || !Number.isFinite(rateLimit)) {
      throw new ConfigError('ROOMS_RATE_LIMIT', `expected a non-negative number, got ${JSON.stringify(rawRate)}`);
    }
  }
  const staticGroups = (read('ROOMS_STATIC_GROUPS') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  for (const id of staticGroups) {
    if (!isValidGroupId(id)) throw new ConfigError('ROOMS_STATIC_GROUPS', `invalid group id ${JSON.stringify(id)}`);
  }
  const rawOrigins = read('ROOMS_CORS_ORIGINS');
  let corsOrigins: string[] | null = null;
  if (rawOrigins !== undefined) {
    try {
      corsOrigins = parseAllowedOrigins(rawOrigins);
    } catch (error) {
      throw new ConfigError('ROOMS_CORS_ORIGINS', error instanceof Error ? error.message : 'invalid origin list');
    }
  }
  const logLevel = read('ROOMS_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('ROOMS_LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }

  return {
    port: int('PORT', 8080, 0, 65535),
    host,
    redisUrl,
    nodeId,
    emptyGraceMs: int('ROOMS_EMPTY_GRACE_MS', 5000, 0, MAX_TIMER_MS),
    resumeWindowMs: int('ROOMS_RESUME_WINDOW_MS', 30_000, 0, MAX_TIMER_MS),
    nodeTtlMs: int('ROOMS_NODE_TTL_MS', 3000, 1, MAX_TIMER_MS),
    maxPayload: int('ROOMS_MAX_PAYLOAD', DEFAULT_LIMITS.maxPayloadBytes, 1, 1 << 30),
    rateLimit,
    staticGroups: [...new Set(staticGroups)],
    jwtSecret: secret('ROOMS_JWT_SECRET'),
    jwtAudience: read('ROOMS_JWT_AUDIENCE') ?? null,
    jwtIssuer: read('ROOMS_JWT_ISSUER') ?? null,
    jwtRequireExp: flag('ROOMS_JWT_REQUIRE_EXP', false),
    adminToken: secret('ROOMS_ADMIN_TOKEN'),
    logLevel: logLevel as LogLevel,
    heartbeatMs: int('ROOMS_HEARTBEAT_MS', 25_000, 1, MAX_TIMER_MS),
    maxOutboundBytes: int('ROOMS_MAX_OUTBOUND_BYTES', DEFAULT_LIMITS.maxOutboundBytes, 1, Number.MAX_SAFE_INTEGER),
    maxGroupsPerSession: int('ROOMS_MAX_GROUPS_PER_SESSION', DEFAULT_LIMITS.maxGroupsPerSession, 0, Number.MAX_SAFE_INTEGER),
    maxCreatedGroupsPerSession: int('ROOMS_MAX_CREATED_GROUPS_PER_SESSION', DEFAULT_LIMITS.maxCreatedGroupsPerSession, 0, Number.MAX_SAFE_INTEGER),
    maxGroups: int('ROOMS_MAX_GROUPS', DEFAULT_LIMITS.maxGroups, 0, Number.MAX_SAFE_INTEGER),
    maxMemberDataBytes: int('ROOMS_MAX_MEMBER_DATA_BYTES', DEFAULT_LIMITS.maxMemberDataBytes, 1, 1 << 30),
    maxMetaBytes: int('ROOMS_MAX_META_BYTES', DEFAULT_LIMITS.maxMetaBytes, 1, 1 << 30),
    historyMaxBytes: int('ROOMS_HISTORY_MAX_BYTES', DEFAULT_LIMITS.historyMaxBytes, 1, Number.MAX_SAFE_INTEGER),
    maxConnections: int('ROOMS_MAX_CONNECTIONS', 10_000, 1, Number.MAX_SAFE_INTEGER),
    maxConnectionsPerIp: int('ROOMS_MAX_CONNECTIONS_PER_IP', 1000, 1, Number.MAX_SAFE_INTEGER),
    headersTimeoutMs: int('ROOMS_HEADERS_TIMEOUT_MS', 10_000, 1, MAX_HEADERS_TIMEOUT_MS),
    corsOrigins,
  };
}
