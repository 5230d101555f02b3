export { freePort } from './free-port.js';
export { waitUntil } from './wait-until.js';
export type { WaitWatch } from './wait-until.js';
export { REDIS_MISSING, RedisServer, ping, requireRedisServer } from './redis-server.js';
export { PROCESS_READY_TIMEOUT_MS, WatchedProcess } from './watched-process.js';
export type { ProcessExit } from './watched-process.js';
export { DEFAULT_WAIT_MS, ProtocolClient, UpgradeRefusedError } from './protocol-client.js';
export type { CloseInfo, MessagePredicate, OpenOptions, ReplyError, ServerMessage, Welcome } from './protocol-client.js';
export { upgradeStatus } from './upgrade-status.js';
