import type { IncomingMessage, ServerResponse } from 'node:http';
import { RoomsError } from '@rooms-kit/core';
import type { Logger } from 'pino';
import type { AdminApi } from './admin-api.js';
import { sendError, sendJson, sendText } from './http-responses.js';
import type { GatewayMetrics } from './metrics.js';

/** What the HTTP routes need from the gateway. */
export interface HttpRouteDeps {
  /** True while the gateway serves: started, not draining, and the shared store reachable. */
  ready(): boolean;
  metrics: GatewayMetrics;
  /** Null when `ROOMS_ADMIN_TOKEN` is unset: `/admin` is then 404. */
  admin: AdminApi | null;
  logger: Logger;
}

/**
 * The HTTP endpoints of PROTOCOL.md: `GET /healthz` (200 while the process runs), `GET /readyz` (200 when serving,
 * 503 while starting, draining or when the store is unreachable), `GET /metrics` (Prometheus text) and the admin
 * API under `/admin`. Anything else is 404.
 */
export function createHttpHandler(deps: HttpRouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(req, res, deps).catch((error: unknown) => {
      deps.logger.error({ err: error, url: req.url }, 'http request failed');
      if (!res.headersSent) sendError(res, new RoomsError('INTERNAL'));
      else res.destroy();
    });
  };
}

async function route(req: IncomingMessage, res: ServerResponse, deps: HttpRouteDeps): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
  const segments = path.split('/').slice(1);
  if (segments[0] === 'admin' && deps.admin !== null) return deps.admin.handle(req, res, segments.slice(1));
  const get = req.method === 'GET' || req.method === 'HEAD';
  if (path === '/healthz' && get) return sendJson(res, 200, { status: 'ok' });
  if (path === '/readyz' && get) {
    const ready = deps.ready();
    return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'unavailable' });
  }
  if (path === '/metrics' && get) return sendText(res, 200, await deps.metrics.text(), deps.metrics.contentType);
  sendJson(res, 404, { error: { code: 'BAD_REQUEST', message: 'not found', temporary: false } });
}
