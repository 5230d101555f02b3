/**
 * `ROOMS_CORS_ORIGINS`: which browser origins may use the gateway's client endpoints (the WebSocket upgrade, and the
 * HTTP transports with their CORS headers).
 */

/** The value of `ROOMS_CORS_ORIGINS` that allows every origin. */
export const ANY_ORIGIN = '*';

/** HTTP methods the HTTP transports take from another origin (`GET /v1/sse`, `GET /v1/poll`, `POST /v1/send`). */
export const CORS_ALLOWED_METHODS = 'GET, POST, OPTIONS';

/** Request headers a page of another origin may send: `Content-Type: application/json` of `POST /v1/send`. */
export const CORS_ALLOWED_HEADERS = 'Content-Type';

/** How long (seconds) a browser may cache a preflight answer: 10 minutes (Chrome caps it at 2 hours anyway). */
export const CORS_MAX_AGE_SECONDS = 600;

// `scheme://host[:port]`, nothing more: no user info, path (not even `/`), query or fragment.
const ORIGIN_SHAPE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@\s\\]+$/;

/**
 * The serialized form of an origin written `scheme://host[:port]` (lower-case scheme and host, the scheme's default
 * port dropped: what a browser sends in `Origin`), or null when `value` is not such an origin.
 */
export function normalizeOrigin(value: string): string | null {
  if (!ORIGIN_SHAPE.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.hostname === '') return null;
  // `URL.origin` is "null" for schemes it has no origin rule for (`chrome-extension:`, `app:`...): build it then.
  return url.origin !== 'null' ? url.origin : `${url.protocol}//${url.host}`.toLowerCase();
}

/**
 * Parses a `ROOMS_CORS_ORIGINS` value: comma-separated origins (see {@link normalizeOrigin}; blanks around them and
 * empty entries are ignored) or `*` alone. Returns the normalized origins without duplicates, or `['*']`. Throws an
 * `Error` whose message says what is wrong (the caller names the variable).
 */
export function parseAllowedOrigins(raw: string): string[] {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error('expected "*" or comma-separated origins (scheme://host[:port])');
  if (entries.includes(ANY_ORIGIN)) {
    if (entries.length > 1) throw new Error('"*" allows every origin and must stand alone');
    return [ANY_ORIGIN];
  }
  const origins = entries.map((entry) => {
    const origin = normalizeOrigin(entry);
    if (origin === null) throw new Error(`expected an origin scheme://host[:port] without path, got ${JSON.stringify(entry)}`);
    return origin;
  });
  return [...new Set(origins)];
}

/**
 * The origin check of the client endpoints, built from the parsed `ROOMS_CORS_ORIGINS` (null when unset).
 *
 * Unset ("default none") means: no page of another origin gets CORS headers, so browsers keep the HTTP transports to
 * same-origin pages; the WebSocket upgrade, which browsers do not subject to CORS, is not checked at all (v1
 * behaviour; put the gateway behind a same-origin proxy or set the variable to restrict it). Set, a request whose
 * `Origin` is present and not listed is refused (403 at the WebSocket upgrade). A request without `Origin` (a
 * non-browser client) always passes: the check protects browser users from other sites' pages, it is not auth.
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  /** `allowed`: the output of {@link parseAllowedOrigins}, or null for "unset". */
  constructor(private readonly allowed: readonly string[] | null) {
    this.any = allowed !== null && allowed.includes(ANY_ORIGIN);
    this.origins = new Set(allowed ?? []);
  }

  /** Whether `ROOMS_CORS_ORIGINS` is set (origins are checked and CORS headers sent). */
  get enforced(): boolean {
    return this.allowed !== null;
  }

  /**
   * Whether a request with this `Origin` header (undefined: none) may go on: always when the policy is unset or the
   * header absent; else when it is `*` or the origin (compared in its normalized form) is listed. A malformed
   * header, `null` (opaque origins) or several joined origins pass only `*`.
   */
  allows(origin: string | undefined): boolean {
    if (origin === undefined || this.allowed === null || this.any) return true;
    const normalized = normalizeOrigin(origin);
    return normalized !== null && this.origins.has(normalized);
  }

  /**
   * The CORS headers of an answer to a request with this `Origin` (an HTTP transport's GET/POST): unset policy, none;
   * else `Vary: Origin` (caches must key on it, whatever the origin) and, for an allowed present origin,
   * `Access-Control-Allow-Origin` echoing it (an echo rather than `*`, so the answer is right for that origin only).
   */
  responseHeaders(origin: string | undefined): Record<string, string> {
    if (this.allowed === null) return {};
    if (origin === undefined || !this.allows(origin)) return { Vary: 'Origin' };
    return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  }

  /**
   * The headers of the answer (204) to a preflight (`OPTIONS` with `Access-Control-Request-Method`) with this
   * `Origin`: {@link responseHeaders} plus, for an allowed origin, the methods, request headers and cache lifetime
   * allowed. A disallowed origin gets no `Access-Control-Allow-*` header: the browser then refuses the request.
   */
  preflightHeaders(origin: string | undefined): Record<string, string> {
    const headers = this.responseHeaders(origin);
    if (headers['Access-Control-Allow-Origin'] === undefined) return headers;
    return {
      ...headers,
      'Access-Control-Allow-Methods': CORS_ALLOWED_METHODS,
      'Access-Control-Allow-Headers': CORS_ALLOWED_HEADERS,
      'Access-Control-Max-Age': String(CORS_MAX_AGE_SECONDS),
    };
  }
}
