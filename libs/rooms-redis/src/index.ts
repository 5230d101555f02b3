export { RedisBackend } from './redis-backend.js';
export type { RedisBackendOptions } from './options.js';
export type { RedisTarget } from './redis-url.js';
export { parseRedisUrl } from './redis-url.js';
export { RedisKeys } from './keys.js';
export type { GroupKeys } from './keys.js';
