import { PROTOCOL_PATH } from '@rooms-kit/protocol/server';
import type { Logger } from 'pino';
import { ADMIN_PREFIX, adminApi } from './admin/admin-routes.js';
import type { AdminDeps } from './admin/admin-routes.js';
import { healthRoutes } from './health-routes.js';
import type { HealthDeps } from './health-routes.js';
import { HttpRouter } from './router.js';
import { transportRoutes } from './transport-routes.js';
import type { TransportDeps } from './transport-routes.js';

/** What the gateway's HTTP side needs from the gateway. */
export interface GatewayRouterDeps extends HealthDeps, TransportDeps {
  /** The admin API's needs; null when `ROOMS_ADMIN_TOKEN` is unset: everything under `/admin` is then 404. */
  admin: AdminDeps | null;
  logger: Logger;
}

/**
 * The gateway's router, with its mount points: the probes and `/metrics` at the root, the admin API at `/admin`
 * (when on), and the transport endpoints at `/v1` (the WebSocket upgrade). Static pages are not mounted yet
 * (`staticFiles` is the module for them). Wire it with `createServer(router.handleRequest)` and
 * `server.on('upgrade', router.handleUpgrade)`.
 */
export function createGatewayRouter(deps: GatewayRouterDeps): HttpRouter {
  const router = new HttpRouter(deps.logger);
  router.mount('', [healthRoutes(deps)]);
  if (deps.admin !== null) {
    const admin = adminApi(deps.admin);
    router.mount(ADMIN_PREFIX, [admin.routes], { fallback: admin.fallback });
  }
  router.mount(PROTOCOL_PATH, [transportRoutes(deps)]);
  return router;
}
