export { freePort } from './free-port.js';
export { waitUntil } from './wait-until.js';
export { RedisMissingError, RedisProcess } from './redis-process.js';
export type { GatewayProcessOptions } from './gateway-process.js';
export { GatewayProcess, freePorts } from './gateway-process.js';
export { ProtocolClient } from './protocol-client.js';
export type { ServerMessage } from './protocol-client.js';
