import { createHash } from 'node:crypto';
import type { ScriptName } from './scripts.js';

/** The one ioredis method the backend needs: `Redis#call` and `Cluster#call` both fit (Cluster routes by key). */
export interface RedisCaller {
  call(command: string, ...args: Array<string | number>): Promise<unknown>;
}

/**
 * Runs the backend's Lua scripts by SHA1 (EVALSHA), falling back to EVAL when the server does not know the script
 * (first use, or a Redis restarted empty). Replies are returned as ioredis gives them.
 */
export class ScriptRunner {
  private readonly shas: Record<ScriptName, string>;

  constructor(
    private readonly client: RedisCaller,
    private readonly sources: Record<ScriptName, string>,
  ) {
    this.shas = {} as Record<ScriptName, string>;
    for (const [name, source] of Object.entries(sources)) {
      this.shas[name as ScriptName] = createHash('sha1').update(source).digest('hex');
    }
  }

  /** Runs script `name` on `keys` (all in one slot on Redis Cluster) with `args`. */
  async run(name: ScriptName, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await this.client.call('EVALSHA', this.shas[name], keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.client.call('EVAL', this.sources[name], keys.length, ...keys, ...args);
    }
  }
}
