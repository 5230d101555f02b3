import type { NodeId, SessionId, SessionRecord, SessionStore, TakenSession, TakeOptions } from '@rooms-kit/core';
import type { RedisRuntime } from './redis-runtime.js';

/**
 * RedisSessionStore: the session store on Redis (see `SessionRecords` for the layout). Keeps every guarantee of
 * `SessionStore`: `take` is one compare-and-set script; operations of several round trips are bounded by the command
 * timeout; calls reject `UNAVAILABLE` while a connection is down (see `RedisRuntime.call`).
 */
export class RedisSessionStore implements SessionStore {
  constructor(private readonly runtime: RedisRuntime) {}

  /**
   * Stores the record unless another node than `record.node` holds the session now; resolves false then (see
   * `SessionRecords.save`).
   */
  async save(record: SessionRecord): Promise<boolean> {
    return this.runtime.call((run) => run.sessions.save(record), true);
  }

  async take(session: SessionId, tokenHash: string, options: TakeOptions = {}): Promise<TakenSession | null> {
    return this.runtime.call((run) => run.sessions.take(session, tokenHash, options), true);
  }

  async read(session: SessionId): Promise<SessionRecord | null> {
    return this.runtime.call((run) => run.sessions.read(session));
  }

  async drop(session: SessionId, ifNode?: NodeId): Promise<boolean> {
    return this.runtime.call((run) => run.sessions.drop(session, ifNode));
  }
}
