export type { GatewayProcessOptions } from './gateway-process.js';
export { GatewayProcess } from './gateway-process.js';
export { ProtocolClient } from './protocol-client.js';
export type { ServerMessage } from './protocol-client.js';
