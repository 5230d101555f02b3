export type { GatewayProcessOptions } from './gateway-process.js';
export { GatewayProcess } from './gateway-process.js';
