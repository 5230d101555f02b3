import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupId, NodeManager } from '@rooms-kit/core';
import { RoomsError, toRoomsError } from '@rooms-kit/core';
import type { Logger } from 'pino';
import { readBody, sendError, sendJson } from './http-responses.js';
import { safeEqual } from './session-tokens.js';

/** What the admin API needs from the gateway. */
export interface AdminDeps {
  /** The bearer token the API requires. */
  token: string;
  /** Largest announce body, bytes (`ROOMS_MAX_PAYLOAD`). */
  maxPayload: number;
  node(): NodeManager;
  /** Publishes counted in metrics. */
  onPublish(): void;
  logger: Logger;
}

/**
 * The admin HTTP API of PROTOCOL.md, under `/admin`, behind `Authorization: Bearer <ROOMS_ADMIN_TOKEN>` (compared
 * in constant time; missing or wrong: 401):
 * - `GET /admin/groups` → `{"groups":[{"id","state","size","static"}]}`
 * - `GET /admin/groups/:id` → the `group` op's result plus `members`
 * - `POST /admin/groups/:id/announce` (JSON body = data) → `{"recipients","offset"}`; body over `ROOMS_MAX_PAYLOAD`:
 *   413 `PAYLOAD_TOO_LARGE`; not JSON: 400 `BAD_REQUEST`
 * - `DELETE /admin/groups/:id` → `{"group":id}` (discard, members get `discarded` reason `admin`)
 * - `DELETE /admin/sessions/:id` → `{"session":id}` (kick, cluster-wide: members get `left` reason `kicked`, and the
 *   node holding the session closes its connection with 4003)
 * Errors are `{"error":{"code","message","temporary"}}` with the code's status (404 for a missing group or session).
 * Path segments are percent-decoded, so group ids with `/` are sent as `%2F`.
 */
export class AdminApi {
  constructor(private readonly deps: AdminDeps) {}

  /** Handles a request whose path starts with `/admin`; `segments` are the raw path segments after it. */
  async handle(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void> {
    if (!this.authorized(req)) {
      sendJson(res, 401, { error: new RoomsError('FORBIDDEN', 'missing or wrong admin token').toWire() });
      return;
    }
    try {
      await this.route(req, res, segments.map(decodeSegment));
    } catch (error) {
      const failure = toRoomsError(error);
      if (failure.code === 'INTERNAL') this.deps.logger.error({ err: error }, 'admin request failed');
      sendError(res, failure);
    }
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) return false;
    return safeEqual(header.slice('Bearer '.length), this.deps.token);
  }

  private async route(req: IncomingMessage, res: ServerResponse, path: string[]): Promise<void> {
    const method = req.method ?? 'GET';
    const [collection, id, action, ...rest] = path;
    if (rest.length > 0) return notFound(res);
    if (collection === 'groups' && id === undefined) return this.only(method, 'GET', res, () => this.listGroups(res));
    if (collection === 'groups' && id !== undefined && action === undefined) {
      if (method === 'GET') return this.describeGroup(res, id);
      if (method === 'DELETE') return this.discardGroup(res, id);
      return methodNotAllowed(res, 'GET, DELETE');
    }
    if (collection === 'groups' && id !== undefined && action === 'announce') {
      return this.only(method, 'POST', res, () => this.announce(req, res, id));
    }
    if (collection === 'sessions' && id !== undefined && action === undefined) {
      return this.only(method, 'DELETE', res, () => this.kick(res, id));
    }
    return notFound(res);
  }

  private async only(method: string, allowed: string, res: ServerResponse, run: () => Promise<void>): Promise<void> {
    if (method !== allowed) return methodNotAllowed(res, allowed);
    return run();
  }

  private async listGroups(res: ServerResponse): Promise<void> {
    const node = this.deps.node();
    const groups: Array<{ id: GroupId; state: string; size: number; static: boolean }> = [];
    for (const id of await node.listGroups()) {
      try {
        const info = await node.groupInfo(id);
        groups.push({ id, state: info.state, size: info.size, static: info.static });
      } catch (error) {
        // Discarded between the listing and the look-up: not a group any more.
        if (!(error instanceof RoomsError && error.code === 'GROUP_NOT_FOUND')) throw error;
      }
    }
    sendJson(res, 200, { groups });
  }

  private async describeGroup(res: ServerResponse, id: GroupId): Promise<void> {
    const node = this.deps.node();
    const info = await node.groupInfo(id);
    const members = await node.members(id);
    sendJson(res, 200, { group: info.group, state: info.state, size: info.size, nodes: info.nodes, meta: info.meta, static: info.static, members });
  }

  private async discardGroup(res: ServerResponse, id: GroupId): Promise<void> {
    await this.deps.node().discard(id);
    sendJson(res, 200, { group: id });
  }

  private async announce(req: IncomingMessage, res: ServerResponse, id: GroupId): Promise<void> {
    const body = await readBody(req, this.deps.maxPayload);
    if (body === null) {
      res.setHeader('connection', 'close');
      sendError(res, new RoomsError('PAYLOAD_TOO_LARGE', `body exceeds ${this.deps.maxPayload} bytes`));
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RoomsError('BAD_REQUEST', 'the body must be JSON');
    }
    const result = await this.deps.node().announce(id, data);
    this.deps.onPublish();
    sendJson(res, 200, { recipients: result.recipients, offset: result.offset });
  }

  private async kick(res: ServerResponse, id: string): Promise<void> {
    // The node holding the session (this one or another) closes its connection through onSessionEnded.
    if (!(await this.deps.node().kick(id))) throw new RoomsError('GROUP_NOT_FOUND', 'no such session');
    sendJson(res, 200, { session: id });
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RoomsError('BAD_REQUEST', 'malformed percent-encoding in the path');
  }
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, { error: { code: 'BAD_REQUEST', message: 'no such admin endpoint', temporary: false } });
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendJson(res, 405, { error: { code: 'BAD_REQUEST', message: 'method not allowed', temporary: false } });
}
