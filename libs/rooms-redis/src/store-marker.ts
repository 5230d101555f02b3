import { randomUUID } from 'node:crypto';
import type { RedisKeys } from './keys.js';
import type { RedisCaller } from './script-runner.js';

/** KEYS: the marker. ARGV: 1 a new token. Reads the marker, writing the token first when it is missing. Returns the marker. */
const ENSURE_MARKER = `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

/**
 * StoreMarker: a key without expiry (`rooms:store`) whose random value names the store's incarnation, so that a node
 * tells "every liveness key is gone because the store lost its data" (a restart without persistence, a flush) from
 * "the other nodes died". The first node to find it missing writes a new one; a node that reads another value than
 * the one it saw last knows the store came back empty since.
 */
export class StoreMarker {
  private readonly key: string;

  constructor(
    private readonly redis: RedisCaller,
    keys: RedisKeys,
  ) {
    this.key = keys.storeMarker();
  }

  /** The current marker, written first (a new random one) when missing. */
  async ensure(): Promise<string> {
    return String(await this.redis.call('EVAL', ENSURE_MARKER, 1, this.key, randomUUID()));
  }

  /** The current marker, or null when missing (the store lost its data since). */
  async read(): Promise<string | null> {
    const value = await this.redis.call('GET', this.key);
    return value === null ? null : String(value);
  }
}
