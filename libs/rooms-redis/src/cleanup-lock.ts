import { randomUUID } from 'node:crypto';
import type { NodeId } from '@rooms-kit/core';
import type { RedisKeys } from './keys.js';
import type { RedisCaller, ScriptRunner } from './script-runner.js';

/**
 * CleanupLock: the lock that makes one survivor clean up after a dead node (`rooms:cleanup:<node>`). Taken with
 * SET NX PX and a token of this attempt's own, so that only its owner extends it (`renew`) or releases it
 * (`release`): a cleaner that stalled past the lock's expiry and comes back finds it taken over and stops, instead of
 * deleting the new owner's lock. A cleaner that dies leaves the lock to expire after `ttlMs`, when the next survivor's
 * check takes it.
 */
export class CleanupLock {
  private readonly key: string;
  private readonly token: string;

  constructor(
    private readonly redis: RedisCaller,
    private readonly runner: ScriptRunner,
    keys: RedisKeys,
    /** The node that died. */
    node: NodeId,
    /** The node cleaning up (in the token, for whoever inspects the lock). */
    self: NodeId,
    /** How long the lock lives without a renewal. */
    private readonly ttlMs: number,
  ) {
    this.key = keys.cleanupLock(node);
    this.token = `${self}:${randomUUID()}`;
  }

  /** Takes the lock; false when another cleaner holds it. */
  async acquire(): Promise<boolean> {
    return (await this.redis.call('SET', this.key, this.token, 'NX', 'PX', this.ttlMs)) === 'OK';
  }

  /** Extends the lock by `ttlMs`; false when this attempt no longer owns it (it expired and was taken, or is gone). */
  async renew(): Promise<boolean> {
    return (await this.runner.run('renewLock', [this.key], [this.token, this.ttlMs])) === 1;
  }

  /** Deletes the lock if this attempt still owns it (compare-and-delete). Resolves whether it did. */
  async release(): Promise<boolean> {
    return (await this.runner.run('releaseLock', [this.key], [this.token])) === 1;
  }
}
