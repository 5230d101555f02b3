/**
 * @rooms-kit/gateway: the rooms server. `loadConfig(process.env)` reads docs/protocol.md's environment; `startGateway(config)`
 * starts a node (HTTP + WebSocket on `/v1`) and resolves with the running {@link Gateway}.
 */
export { ConfigError, LOG_LEVELS, loadConfig } from './config.js';
export type { GatewayConfig, LogLevel } from './config.js';
export { Gateway, startGateway } from './gateway.js';
export type { GatewayOptions } from './gateway.js';
export { createBackend } from './cluster/backend-factory.js';
