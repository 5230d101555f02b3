import type { GroupId, Logger, NodeId, Now, SessionId, SessionRecord, TakenSession, TakeOptions } from '@rooms-kit/core';
import type { RedisKeys } from './keys.js';
import { asArray, asInt, asString } from './replies.js';
import type { RedisCaller, ScriptRunner } from './script-runner.js';

/** How many times `take` re-reads a record whose holder changed under it. */
const TAKE_ATTEMPTS = 3;

/**
 * SessionRecords: resumable session records in Redis, one hash per session (`rooms:session:<id>`: `rec` = user and
 * groups as JSON; `node`; `tok` = token hash; `exp` = expiresAt or '' while live; `win` = window ms; `died` = the
 * holder's death time once a survivor found it dead). A suspended record expires with its window (PX); a live one
 * lasts until dropped, taken, or its holder is found dead (then it expires `win` after the death).
 * Each node also keeps the set of the sessions it may hold (`rooms:nodesessions:<node>`) for that cleanup.
 */
export class SessionRecords {
  constructor(
    private readonly self: NodeId,
    private readonly redis: RedisCaller,
    private readonly runner: ScriptRunner,
    private readonly keys: RedisKeys,
    private readonly now: Now,
    private readonly cluster: boolean,
    private readonly logger: Logger,
  ) {}

  /**
   * Writes the record when no node or `record.node` holds the session (compare-and-set: a save from the node the
   * session was just taken from must not undo the take and its token rotation); a suspended one already past its
   * expiry is deleted instead, on the same condition. Clears the mark a survivor set when it found the holder dead
   * (the holder is back). Resolves whether it wrote (or deleted): false when another node holds the session now.
   */
  async save(record: SessionRecord): Promise<boolean> {
    const key = this.keys.session(record.id);
    let ttl = '';
    if (record.expiresAt !== null) {
      const left = record.expiresAt - this.now();
      if (left <= 0) return this.drop(record.id, record.node);
      ttl = String(Math.ceil(left));
    }
    // The id is the key's: `rec` holds the rest.
    const rec: { user?: string; groups: Record<GroupId, number> } = { groups: record.groups };
    if (record.user !== undefined) rec.user = record.user;
    const keys = [key];
    const args = [JSON.stringify(rec), record.node, record.tokenHash, record.expiresAt === null ? '' : String(record.expiresAt), String(record.windowMs), ttl];
    if (this.cluster) {
      // Another slot: the index first, so that a cleanup never misses a record it should mark.
      await this.redis.call('SADD', this.keys.nodeSessions(record.node), record.id);
    } else {
      keys.push(this.keys.nodeSessions(record.node));
      args.push(record.id);
    }
    // A refusal is the caller's to act on (the session was taken). On a cluster the index is a superset (see
    // `nodeSessions`): a refused save leaves an entry the cleanup skips.
    return asInt(await this.runner.run('saveSession', keys, args)) === 1;
  }

  /**
   * Takes the session for this node when the hash matches and it is resumable: suspended and not expired, live on a
   * live node (taken over), or live on a node that is dead (its liveness key is gone) since less than its window.
   * Compare-and-set on the holder, so of concurrent takes exactly one wins. Resolves with the previous holder too.
   */
  async take(session: SessionId, tokenHash: string, options: TakeOptions = {}): Promise<TakenSession | null> {
    const { newTokenHash, expectedUser } = options;
    const key = this.keys.session(session);
    for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
      const holder = await this.redis.call('HGET', key, 'node');
      if (holder === null) return null;
      const node = asString(holder);
      const now = this.now();
      const holderAlive = node === this.self || (await this.redis.call('EXISTS', this.keys.node(node))) === 1;
      const user = expectedUser === undefined ? '' : expectedUser === null ? '!' : `=${expectedUser}`;
      const args = [tokenHash, this.self, String(now), node, holderAlive ? '' : String(now), user, newTokenHash ?? ''];
      const reply = await this.runner.run('takeSession', [key], args);
      if (reply === null) return null;
      const fields = asArray(reply);
      if (fields[0] === 'RETRY') continue;
      const previousNode = asString(fields[2]);
      this.moveIndex(session, previousNode);
      return { record: this.record(session, asString(fields[1]), this.self, asString(fields[4]), null, asInt(fields[3])), previousNode };
    }
    return null;
  }

  /** The record as stored (expired ones are gone with their key); null when there is none. */
  async read(session: SessionId): Promise<SessionRecord | null> {
    const [rec, node, tok, exp, win] = asArray(await this.redis.call('HMGET', this.keys.session(session), 'rec', 'node', 'tok', 'exp', 'win'));
    if (rec === null || node === null || tok === null || exp === null || win === null) return null;
    const expiresAt = asString(exp);
    return this.record(session, asString(rec), asString(node), asString(tok), expiresAt === '' ? null : asInt(expiresAt), asInt(win));
  }

  /**
   * Deletes the record; with `ifNode`, not when another node holds it now (false only then; a missing record is
   * true).
   */
  async drop(session: SessionId, ifNode?: NodeId): Promise<boolean> {
    const reply = asArray(await this.runner.run('dropSession', [this.keys.session(session)], [ifNode ?? '']));
    if (asInt(reply[0]) !== 1) return false;
    const holder = asString(reply[1]);
    if (holder !== '') {
      this.redis.call('SREM', this.keys.nodeSessions(holder), session).catch((error: unknown) => this.logger.debug({ err: error }, 'session index remove failed'));
    }
    return true;
  }

  private moveIndex(session: SessionId, previous: NodeId): void {
    const fail = (error: unknown): void => this.logger.debug({ err: error, session }, 'session index move failed');
    this.redis.call('SADD', this.keys.nodeSessions(this.self), session).catch(fail);
    if (previous !== this.self) this.redis.call('SREM', this.keys.nodeSessions(previous), session).catch(fail);
  }

  private record(session: SessionId, recJson: string, node: NodeId, tokenHash: string, expiresAt: number | null, windowMs: number): SessionRecord {
    const rec = JSON.parse(recJson) as { user?: unknown; groups?: unknown };
    const groups: Record<GroupId, number> = {};
    if (rec.groups && typeof rec.groups === 'object') {
      for (const [group, offset] of Object.entries(rec.groups as Record<string, unknown>)) {
        if (typeof offset === 'number') groups[group] = offset;
      }
    }
    const record: SessionRecord = { id: session, node, tokenHash, groups, expiresAt, windowMs };
    if (typeof rec.user === 'string') record.user = rec.user;
    return record;
  }
}
