export { freePort } from './free-port.js';
export { waitUntil } from './wait-until.js';
export { REDIS_MISSING, RedisServer, ping, requireRedisServer } from './redis-server.js';
