import { METHODS } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { RoomsError } from '@rooms-kit/core';
import FindMyWay from 'find-my-way';
import type { Logger } from 'pino';
import { rejectUpgrade } from '../upgrade-response.js';
import { RequestAbortedError } from './request-body.js';
import { sendError, sendNotFound } from './responses.js';

/** An HTTP method the router knows (find-my-way's list: node's `http.METHODS`). */
export type HttpMethod = FindMyWay.HTTPMethod;

/** A route's path parameters, percent-decoded (`%2F` is `/`); a wildcard's is `*`. */
export type RouteParams = Readonly<Record<string, string | undefined>>;

/**
 * Answers a request its route matched. May be async: a failure is logged and answered 500 `INTERNAL`, except a
 * {@link RequestAbortedError} (the client went away), logged at debug level.
 */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: RouteParams) => void | Promise<void>;

/**
 * Takes over the socket of an upgrade request its path matched. From then on the socket is the handler's: it must
 * listen for the socket's errors and end it. A synchronous throw is logged and answered 500.
 */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What the router tells a fallback about a request no route of its mount point matched. */
export interface RouteMiss {
  /** The path held a malformed percent-encoding, so nothing could be matched. */
  readonly malformed: boolean;
  /** The methods that have a route at this path (for a 405's `Allow`), in registration order; empty if malformed. */
  allowedMethods(): readonly string[];
}

/** Answers a request under a mount point that no route matched. May be async, like a {@link RouteHandler}. */
export type FallbackHandler = (req: IncomingMessage, res: ServerResponse, miss: RouteMiss) => void | Promise<void>;

/** Where a {@link RouteModule} registers its routes: paths are relative to `prefix` (`''` is the prefix itself). */
export interface Mount {
  /** The mount point: `''` for the root, else `/name`. */
  readonly prefix: string;
  /** Routes `methods` at `path` (find-my-way syntax: `/groups/:id`, a trailing `*`) to `handler`. */
  route(methods: HttpMethod | readonly HttpMethod[], path: string, handler: RouteHandler): void;
  /** Routes upgrade requests (any method) at `path` to `handler`; plain requests there go to the fallback. */
  upgrade(path: string, handler: UpgradeHandler): void;
}

/** A set of routes (one concern: health, the admin API, transports, static files) registered on a mount point. */
export type RouteModule = (mount: Mount) => void;

/** One route table entry (find-my-way's `store`); the same object may carry a request and an upgrade handler. */
interface RouteEntry {
  readonly point: MountPoint;
  handler: RouteHandler | null;
  upgrade: UpgradeHandler | null;
}

interface MountPoint {
  readonly prefix: string;
  readonly fallback: FallbackHandler;
}

/**
 * The answer of the root mount and of mount points without a fallback of their own: 400 `BAD_REQUEST` for a
 * malformed target, else the 404.
 */
const notFound: FallbackHandler = (_req, res, miss) => {
  if (miss.malformed) return sendError(res, new RoomsError('BAD_REQUEST', 'malformed request target'));
  sendNotFound(res);
};

/** The base a request target is resolved against (only its path and query matter). */
const TARGET_BASE = 'http://gateway.invalid';

/**
 * The route table's match for a request target, or null when the target is malformed: a path with a malformed
 * percent-encoding, or a target the WHATWG URL parser refuses (`http://[x/v1`), which a handler parsing it would
 * otherwise throw on.
 */
function matchOf(table: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, method: HttpMethod, url: string): { entry: RouteEntry | undefined; params: RouteParams } | null {
  if (!URL.canParse(url, TARGET_BASE)) return null;
  const found = table.find(method, url);
  if (found === null) return { entry: undefined, params: {} };
  // With `onBadUrl` set, find() answers a malformed path with a handle whose store is null.
  const entry = found.store as RouteEntry | null;
  return entry === null ? null : { entry, params: found.params };
}

/** Longer than any request line node accepts (16 KiB of headers): ids of any length reach the handlers. */
const MAX_PARAM_LENGTH = 65_536;

const WELL_FORMED: RouteMiss = { malformed: false, allowedMethods: () => [] };
const MALFORMED: RouteMiss = { malformed: true, allowedMethods: () => [] };

/**
 * The gateway's one HTTP route table (find-my-way): request handlers and WebSocket upgrades share it, so a path is
 * declared once. Route modules are mounted at prefixes; under a prefix, a request that matches no route goes to the
 * mount point's fallback (default: 404 `not found`), which learns the methods the path does have. Anything else,
 * and any upgrade without an upgrade route, is 404. A malformed target (a malformed percent-encoding in the path,
 * or a target the WHATWG URL parser refuses) matches nothing: it reaches the fallback of the mount point its raw
 * path is under, flagged `malformed` (the default fallback answers 400 `BAD_REQUEST`); such an upgrade is refused
 * with a bare 400, logged at debug level only. A handler that throws or rejects is logged and answered 500
 * `INTERNAL` (its response destroyed if the answer had begun): handlers answer client errors themselves, so a 500
 * is always a failure of the server.
 *
 * `handleRequest` and `handleUpgrade` are bound: pass them to `http.createServer` and the server's `upgrade` event.
 */
export class HttpRouter {
  // With `onBadUrl` set, find() answers a malformed path with a handle whose store is null: how misses tell it apart.
  private readonly table: FindMyWay.Instance<FindMyWay.HTTPVersion.V1> = FindMyWay({ maxParamLength: MAX_PARAM_LENGTH, onBadUrl: () => undefined });
  private readonly entries = new Map<string, RouteEntry>();
  private readonly points: MountPoint[] = [];
  private readonly root: MountPoint = { prefix: '', fallback: notFound };
  /** Every method some route serves, in the order first registered (the order of `Allow`). */
  private readonly methods: HttpMethod[] = [];

  constructor(private readonly logger: Logger) {}

  /**
   * Registers `modules` under `prefix` (`''` or `/name`, once per prefix). `fallback` answers requests under a
   * non-root prefix that no route matched; the root's is always the 404.
   */
  mount(prefix: string, modules: readonly RouteModule[], options: { fallback?: FallbackHandler } = {}): void {
    if (prefix !== '' && !/^\/[^/*:]+$/.test(prefix)) throw new Error(`a mount prefix is '' or /name, not ${prefix}`);
    if (prefix !== '' && this.points.some((point) => point.prefix === prefix)) throw new Error(`${prefix} is mounted twice`);
    const point: MountPoint = prefix === '' ? this.root : { prefix, fallback: options.fallback ?? notFound };
    const mount: Mount = {
      prefix,
      route: (methods, path, handler) => {
        for (const method of typeof methods === 'string' ? [methods] : methods) {
          const entry = this.entry(point, method, prefix + path);
          if (entry.handler !== null) throw new Error(`${method} ${prefix + path} is routed twice`);
          entry.handler = handler;
          if (!this.methods.includes(method)) this.methods.push(method);
        }
      },
      upgrade: (path, handler) => {
        const entry = this.entry(point, 'GET', prefix + path);
        if (entry.upgrade !== null) throw new Error(`upgrades at ${prefix + path} are routed twice`);
        entry.upgrade = handler;
      },
    };
    for (const module of modules) module(mount);
    if (prefix === '') return;
    this.points.push(point);
    // Everything under the prefix that no module routed reaches the mount point's fallback.
    for (const method of METHODS as HttpMethod[]) {
      this.entry(point, method, prefix);
      this.entry(point, method, `${prefix}/*`);
    }
  }

  /** Answers a request: its route's handler, else its mount point's fallback. */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const match = matchOf(this.table, req.method as HttpMethod, url);
    if (match === null) return this.run(req, res, () => this.pointOf(url).fallback(req, res, MALFORMED));
    const entry = match.entry;
    if (entry === undefined) return this.run(req, res, () => this.root.fallback(req, res, WELL_FORMED));
    const handler = entry.handler;
    if (handler !== null) return this.run(req, res, () => handler(req, res, match.params));
    const miss: RouteMiss = { malformed: false, allowedMethods: () => this.allowedMethods(url) };
    this.run(req, res, () => entry.point.fallback(req, res, miss));
  };

  /**
   * Hands an upgrade request to the upgrade route of its path (whatever its method), else refuses it: 400 for a
   * malformed target, 404 for any other.
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const match = matchOf(this.table, 'GET', req.url ?? '/');
    const upgrade = match?.entry?.upgrade ?? null;
    if (upgrade === null) {
      // Node removed its own listeners from an upgraded socket: a client reset must not crash the process.
      socket.on('error', this.onRefusedSocketError);
      if (match === null) this.logger.debug({ url: req.url }, 'upgrade refused: malformed target');
      return rejectUpgrade(socket, match === null ? 400 : 404);
    }
    try {
      upgrade(req, socket, head);
    } catch (error) {
      this.logger.error({ err: error, url: req.url }, 'upgrade failed');
      socket.on('error', this.onRefusedSocketError);
      rejectUpgrade(socket, 500);
    }
  };

  private readonly onRefusedSocketError = (error: Error): void => this.logger.debug({ err: error }, 'upgrade socket error');

  /** The entry for `method path`, created (and registered) on first use. */
  private entry(point: MountPoint, method: HttpMethod, path: string): RouteEntry {
    const full = path === '' ? '/' : path;
    const key = `${method} ${full}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { point, handler: null, upgrade: null };
      this.entries.set(key, entry);
      this.table.on(method, full, noop, entry);
    }
    return entry;
  }

  private allowedMethods(url: string): HttpMethod[] {
    return this.methods.filter((method) => (this.table.find(method, url)?.store as RouteEntry | null | undefined)?.handler != null);
  }

  /** The mount point whose prefix the raw path (before `?` or `#`) is under. */
  private pointOf(url: string): MountPoint {
    const path = url.split(/[?#]/, 1)[0] ?? url;
    for (const point of this.points) {
      if (path === point.prefix || path.startsWith(`${point.prefix}/`)) return point;
    }
    return this.root;
  }

  private run(req: IncomingMessage, res: ServerResponse, answer: () => void | Promise<void>): void {
    try {
      const pending = answer();
      if (pending instanceof Promise) pending.catch((error: unknown) => this.fail(req, res, error));
    } catch (error) {
      this.fail(req, res, error);
    }
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (error instanceof RequestAbortedError) {
      // The client went away mid-request: not a failure of the server, and nobody to answer.
      this.logger.debug({ err: error, url: req.url }, 'http request aborted by the client');
      res.destroy();
      return;
    }
    this.logger.error({ err: error, url: req.url }, 'http request failed');
    if (!res.headersSent) sendError(res, new RoomsError('INTERNAL'));
    else res.destroy();
  }
}

/** find-my-way wants a handler per route; dispatch goes through the entry instead. */
function noop(): void {}
