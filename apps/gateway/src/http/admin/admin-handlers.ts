import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GroupId, GroupState, NodeManager, SessionId } from '@rooms-kit/core';
import { RoomsError } from '@rooms-kit/core';
import { readBody } from '../request-body.js';
import { sendError, sendJson } from '../responses.js';

/** What the admin handlers need from the gateway. */
export interface AdminHandlerDeps {
  /** Largest announce body, bytes (`ROOMS_MAX_PAYLOAD`). */
  maxPayload: number;
  /** The node's kernel (called per request: it exists once the gateway started). */
  node(): NodeManager;
  /** Counts an announce in the metrics' messages in. */
  onPublish(): void;
}

/**
 * The admin API's operations, one method per endpoint, each answering 200 with its JSON body. They throw (reject)
 * `RoomsError`s of the kernel for the caller to answer; they neither authenticate nor route.
 */
export class AdminHandlers {
  constructor(private readonly deps: AdminHandlerDeps) {}

  /** `GET /admin/groups` → `{"groups":[{"id","state","size","static"}]}`. */
  async listGroups(res: ServerResponse): Promise<void> {
    const node = this.deps.node();
    const groups: Array<{ id: GroupId; state: GroupState; size: number; static: boolean }> = [];
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

  /** `GET /admin/groups/:id` → the `group` op's result plus `members`. Rejects `GROUP_NOT_FOUND`, `BAD_REQUEST`. */
  async describeGroup(res: ServerResponse, id: GroupId): Promise<void> {
    const node = this.deps.node();
    const info = await node.groupInfo(id);
    const members = await node.members(id);
    sendJson(res, 200, { group: info.group, state: info.state, size: info.size, nodes: info.nodes, meta: info.meta, static: info.static, members });
  }

  /** `DELETE /admin/groups/:id` → `{"group":id}`. Rejects `GROUP_NOT_FOUND`, `FORBIDDEN` (static), `BAD_REQUEST`. */
  async discardGroup(res: ServerResponse, id: GroupId): Promise<void> {
    await this.deps.node().discard(id);
    sendJson(res, 200, { group: id });
  }

  /**
   * `POST /admin/groups/:id/announce` (JSON body = data) → `{"recipients","offset"}`. A body over `maxPayload` is
   * answered 413 here (with `connection: close`: its rest is not read); rejects `BAD_REQUEST` for a body that is not
   * JSON, and the kernel's `BAD_REQUEST` for data nested deeper than `MAX_PAYLOAD_DEPTH` (32) levels and its
   * `GROUP_NOT_FOUND`.
   */
  async announce(req: IncomingMessage, res: ServerResponse, id: GroupId): Promise<void> {
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

  /**
   * `DELETE /admin/sessions/:id` → `{"session":id}`: kicks cluster-wide (the node holding the session closes its
   * connection with 4003 through the kernel's `onSessionEnded`). Rejects `SESSION_NOT_FOUND` for a session unknown
   * everywhere.
   */
  async kick(res: ServerResponse, id: SessionId): Promise<void> {
    if (!(await this.deps.node().kick(id))) throw sessionNotFound();
    sendJson(res, 200, { session: id });
  }

  /**
   * `GET /admin/sessions/:id` → `{"session","user","node","connected","transport","groups"}`, wherever the session is
   * held (the kernel asks its holder). Rejects `SESSION_NOT_FOUND` for a session unknown everywhere.
   */
  async describeSession(res: ServerResponse, id: SessionId): Promise<void> {
    const view = await this.deps.node().describeSession(id);
    if (view === null) throw sessionNotFound();
    // WebSocket is the only client transport so far; `sse` and `poll` come with the HTTP transports.
    const { session, user, node, connected, groups } = view;
    sendJson(res, 200, { session, user, node, connected, transport: 'websocket', groups });
  }

  /** `GET /admin/nodes` → `{"nodes":[{"id","self","connections","groups"}]}`: every live node, this one first. */
  async listNodes(res: ServerResponse): Promise<void> {
    const nodes = await this.deps.node().nodes();
    sendJson(res, 200, { nodes: nodes.map(({ id, self, connections, groups }) => ({ id, self, connections, groups })) });
  }
}

function sessionNotFound(): RoomsError {
  return new RoomsError('SESSION_NOT_FOUND', 'no such session');
}
