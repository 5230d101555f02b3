import type { GroupId, NodeId, SessionId } from '../types.js';

/** A resumable session as stored, so that it can be resumed on any node. */
export interface SessionRecord {
  id: SessionId;
  user?: string;
  /** The node that holds the connection. */
  node: NodeId;
  /** A hash of the session's current resume token (never the token itself). */
  tokenHash: string;
  /**
   * Groups the session is in, each with the last offset known written to its connection (exact after a suspend;
   * the offset at join time while connected, so a resume after a node crash replays more, never less).
   */
  groups: Record<GroupId, number>;
  /** Epoch ms after which the session can no longer be resumed; null while its connection is up. */
  expiresAt: number | null;
  /** The resume window in ms, applied from the moment the holding node is found dead. */
  windowMs: number;
}

/** Options of `SessionStore.take`. */
export interface TakeOptions {
  /** Replaces the token hash in the same atomic step (so of concurrent takes with one token exactly one wins). */
  newTokenHash?: string;
  /** The session must belong to this user; null: it must have no user. Absent: any. */
  expectedUser?: string | null;
}

/** What `SessionStore.take` got: the record, now held by the taking node, and the node that held it before. */
export interface TakenSession {
  record: SessionRecord;
  /** The previous holder (the taking node itself when it held the session already). */
  previousNode: NodeId;
}

/**
 * The session store: resumable session records shared by the nodes of a cluster, so a client can resume on any node.
 * Telling the previous holder of a take, or the holder of a kicked session, is the kernel's business over the
 * `ClusterBus`; the store only keeps records.
 *
 * Guarantees every implementation keeps (checked by `backendContract` against each):
 * - Atomicity: `take` checks and moves a record in one step: of concurrent takes with one token exactly one wins.
 * - Holder: a record is changed only by the node that holds it (`save`, `drop` with `ifNode`), or moved by `take`;
 *   `save` and `drop` with `ifNode` report a refusal because another node holds the record (resolve false).
 * - Expiry: a suspended record is gone after `expiresAt`; a live one whose holder is found dead, `windowMs` after.
 * - Failure: while the store is unreachable every method rejects promptly with `RoomsError('UNAVAILABLE')` and no
 *   change is applied.
 */
export interface SessionStore {
  /**
   * Stores a resumable session until `record.expiresAt`, replacing a record of the same id unless another node than
   * `record.node` holds it now (a late save from the old holder must not undo a resume elsewhere). Resolves true when
   * it stored the record (or, for a suspended one already past `expiresAt`, deleted it), false when another node holds
   * the session now: nothing changed, and the session was taken from `record.node` (the kernel ends it there as
   * `taken`, also when the bus could not tell that node, e.g. while it was taken for dead).
   */
  save(record: SessionRecord): Promise<boolean>;
  /**
   * Takes a session for resume on this node: atomically checks the token hash (and, with `expectedUser`, the user)
   * and that it is resumable: suspended and not expired, connected on a live node (a client that reconnects before
   * its old connection is seen dead), or held by a node found dead less than `windowMs` ago. Moves the record to this
   * node and rotates the token hash (`newTokenHash`) in the same step. Null when unknown, expired, or the hash or the
   * user differs; nothing changes then.
   */
  take(session: SessionId, tokenHash: string, options?: TakeOptions): Promise<TakenSession | null>;
  /** The record of a session as stored now (who holds it, its groups); null when there is none (or it expired). */
  read(session: SessionId): Promise<SessionRecord | null>;
  /**
   * Forgets a session (ended by the client, kicked, or its window passed). With `ifNode`, not when the record is now
   * held by another node (a window that ends on the old node must not undo a resume elsewhere: a resume moves the
   * record, it never deletes it). Resolves false only in that case; a missing record (e.g. expired) resolves true.
   */
  drop(session: SessionId, ifNode?: NodeId): Promise<boolean>;
}
