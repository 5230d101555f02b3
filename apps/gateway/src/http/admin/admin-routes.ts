import type { IncomingMessage, ServerResponse } from 'node:http';
import { RoomsError, toRoomsError } from '@rooms-kit/core';
import type { Logger } from 'pino';
import { RequestAbortedError } from '../request-body.js';
import { sendError, sendJson, sendMethodNotAllowed, sendNotFound } from '../responses.js';
import type { FallbackHandler, RouteHandler, RouteModule, RouteParams } from '../router.js';
import { hasAdminToken, sendUnauthorized } from './admin-auth.js';
import { AdminHandlers } from './admin-handlers.js';
import type { AdminHandlerDeps } from './admin-handlers.js';
import { ADMIN_OPENAPI } from './openapi.js';

/** Where the admin API is mounted. */
export const ADMIN_PREFIX = '/admin';

/** What the admin API needs from the gateway. */
export interface AdminDeps extends AdminHandlerDeps {
  /** The bearer token the API requires (`ROOMS_ADMIN_TOKEN`). */
  token: string;
  logger: Logger;
}

/** The admin API as the router mounts it at {@link ADMIN_PREFIX}: its routes and the answer to everything else. */
export interface AdminApi {
  routes: RouteModule;
  fallback: FallbackHandler;
}

/**
 * The admin HTTP API of docs/protocol.md (its OpenAPI document: `openapi.ts`). Every request under `/admin` but the
 * document itself needs `Authorization: Bearer <token>` first (missing or wrong: 401, whatever the path or method);
 * then an unknown path is 404, a known path with another method 405 with `Allow`, a malformed percent-encoding 400.
 * Ids are path parameters, percent-decoded (group ids with `/` come as `%2F`). A handler's `RoomsError` is answered
 * `{"error":{"code","message","temporary"}}` with the code's status; a client that went away mid-body is left to
 * the router (debug log, no answer); anything else is logged and answered 500.
 */
export function adminApi(deps: AdminDeps): AdminApi {
  const handlers = new AdminHandlers(deps);
  const guarded =
    (answer: (req: IncomingMessage, res: ServerResponse, id: string) => Promise<void>): RouteHandler =>
    async (req, res, params) => {
      if (!hasAdminToken(req, deps.token)) return sendUnauthorized(res);
      try {
        await answer(req, res, idOf(params));
      } catch (error) {
        // The client is gone: nothing failed, and nobody is left to answer (the router logs it at debug level).
        if (error instanceof RequestAbortedError) throw error;
        const failure = toRoomsError(error);
        if (failure.code === 'INTERNAL') deps.logger.error({ err: error }, 'admin request failed');
        sendError(res, failure);
      }
    };
  return {
    routes: (mount) => {
      mount.route('GET', '/openapi.json', (_req, res) => sendJson(res, 200, ADMIN_OPENAPI));
      mount.route('GET', '/groups', guarded((_req, res) => handlers.listGroups(res)));
      mount.route('GET', '/groups/:id', guarded((_req, res, id) => handlers.describeGroup(res, id)));
      mount.route('DELETE', '/groups/:id', guarded((_req, res, id) => handlers.discardGroup(res, id)));
      mount.route('POST', '/groups/:id/announce', guarded((req, res, id) => handlers.announce(req, res, id)));
      mount.route('GET', '/sessions/:id', guarded((_req, res, id) => handlers.describeSession(res, id)));
      mount.route('DELETE', '/sessions/:id', guarded((_req, res, id) => handlers.kick(res, id)));
      mount.route('GET', '/nodes', guarded((_req, res) => handlers.listNodes(res)));
    },
    fallback: (req, res, miss) => {
      if (!hasAdminToken(req, deps.token)) return sendUnauthorized(res);
      if (miss.malformed) return sendError(res, new RoomsError('BAD_REQUEST', 'malformed percent-encoding in the path'));
      const allowed = miss.allowedMethods();
      if (allowed.length > 0) return sendMethodNotAllowed(res, allowed);
      sendNotFound(res, 'no such admin endpoint');
    },
  };
}

function idOf(params: RouteParams): string {
  // find-my-way matches an empty segment too (`/admin/groups/`): the kernel refuses that id as it would any other.
  return params.id ?? '';
}
