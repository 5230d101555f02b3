import type { RouteModule, UpgradeHandler } from './router.js';

/** The transport endpoints' handlers. */
export interface TransportDeps {
  /** Takes over WebSocket upgrade requests on the mount point itself (`/v1`). */
  websocket: UpgradeHandler;
}

/**
 * The transport endpoints, mounted at `PROTOCOL_PATH` (`/v1`): the WebSocket upgrade on the mount point itself (a
 * plain request there is 404, as is an upgrade anywhere else). The HTTP transports of docs/protocol.md (`GET /v1/sse`,
 * `POST /v1/send`, `GET /v1/poll`) belong in this module.
 */
export function transportRoutes(deps: TransportDeps): RouteModule {
  return (mount) => {
    mount.upgrade('', deps.websocket);
  };
}
