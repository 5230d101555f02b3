/**
 * The gateway's HTTP side: one find-my-way route table with mount points for the probes and metrics, the admin API
 * (with its OpenAPI document), the transport endpoints and static pages, shared by requests and WebSocket upgrades.
 */
export { createGatewayRouter } from './gateway-router.js';
export type { GatewayRouterDeps } from './gateway-router.js';
export { HttpRouter } from './router.js';
export type { FallbackHandler, HttpMethod, Mount, RouteHandler, RouteMiss, RouteModule, RouteParams, UpgradeHandler } from './router.js';
export { healthRoutes } from './health-routes.js';
export type { HealthDeps } from './health-routes.js';
export { transportRoutes } from './transport-routes.js';
export type { TransportDeps } from './transport-routes.js';
export { ADMIN_PREFIX, adminApi } from './admin/admin-routes.js';
export type { AdminApi, AdminDeps } from './admin/admin-routes.js';
export { ADMIN_OPENAPI } from './admin/openapi.js';
export type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiPathItem, OpenApiResponse } from './admin/openapi.js';
export { IMMUTABLE_CACHE, REVALIDATE_CACHE, isHashedAssetName, staticFiles } from './static-files.js';
export type { StaticFilesOptions } from './static-files.js';
export { contentTypeOf } from './content-types.js';
export { HTTP_STATUS } from './error-status.js';
export { sendError, sendJson, sendMethodNotAllowed, sendNotFound, sendText } from './responses.js';
export { RequestAbortedError, readBody } from './request-body.js';
export { CONNECTIONS_CHECKING_INTERVAL_MS, KEEP_ALIVE_TIMEOUT_MS, REQUEST_TIMEOUT_MS, createHttpServer } from './http-server.js';
export type { HttpServerConfig, HttpServerHandlers } from './http-server.js';
export { PerAddressConnectionCap } from './connection-caps.js';
