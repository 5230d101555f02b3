/** Largest `interval` (ms of outbound buffering) a `create` may ask for. */
export const MAX_INTERVAL_MS = 60_000;

/**
 * Largest `ttl` (seconds) a `create` may ask for: the longest delay a JavaScript timer can hold (2^31 - 1 ms, about
 * 24.8 days). A longer timer would fire at once, so longer values are refused rather than silently misbehaving.
 */
export const MAX_TTL_SECONDS = 2_147_483;

/** Longest session id a resume may name (ids the gateway issues are 22 characters). */
export const MAX_SESSION_ID_LENGTH = 128;

/**
 * The defaults of the limits a node enforces, as documented with their environment variables: the largest frame
 * (`ROOMS_MAX_PAYLOAD`, bytes), requests per second per connection (`ROOMS_RATE_LIMIT`, burst twice that), the
 * slow-consumer limit (`ROOMS_MAX_OUTBOUND_BYTES`), the groups a session may be in (`ROOMS_MAX_GROUPS_PER_SESSION`),
 * the groups a session created that still exist (`ROOMS_MAX_CREATED_GROUPS_PER_SESSION`), the groups a node
 * supervises (`ROOMS_MAX_GROUPS`), the bytes of a member's `data` and of a group's `meta` as JSON
 * (`ROOMS_MAX_MEMBER_DATA_BYTES`, `ROOMS_MAX_META_BYTES`) and the bytes of a group's history (`ROOMS_HISTORY_MAX_BYTES`).
 */
export const DEFAULT_LIMITS = Object.freeze({
  maxPayloadBytes: 65_536,
  rateLimitPerSecond: 200,
  maxOutboundBytes: 1_048_576,
  maxGroupsPerSession: 1000,
  maxCreatedGroupsPerSession: 100,
  maxGroups: 100_000,
  maxMemberDataBytes: 4096,
  maxMetaBytes: 4096,
  historyMaxBytes: 1_048_576,
});

/** A client that sends more than this many invalid requests within {@link INVALID_REQUEST_WINDOW_MS} is closed (4000). */
export const MAX_INVALID_REQUESTS = 20;

/** The window of {@link MAX_INVALID_REQUESTS}, ms. */
export const INVALID_REQUEST_WINDOW_MS = 10_000;

/**
 * Deepest nesting of arrays and objects accepted in a payload field (`data`, `meta`): a value nested deeper is
 * refused with `BAD_REQUEST` where it enters (a client frame, an admin body, the embedding API). `{"a":1}` and `[1]`
 * have depth 1; a scalar has depth 0. Deep nesting costs stack in every `JSON.stringify` that touches the value, and
 * near 4,000 levels it throws: one such value could break a group for everyone.
 */
export const MAX_PAYLOAD_DEPTH = 32;
