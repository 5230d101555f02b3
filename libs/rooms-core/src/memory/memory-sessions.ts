import type { Now } from '../clock.js';
import type { SessionRecord, TakenSession, TakeOptions } from '../port/session-store.js';
import type { NodeId, SessionId } from '../types.js';
import type { AttachedNodes } from './attached-nodes.js';

/**
 * MemorySessions: the resumable session records of an `InMemoryStore`, shared by every attached node. Records are
 * copied in and out, as a shared store would. `node` is the node calling: it must be attached and alive, and the
 * store reachable.
 */
export class MemorySessions {
  private readonly records = new Map<SessionId, SessionRecord>();

  constructor(
    private readonly nodes: AttachedNodes,
    private readonly now: Now,
  ) {}

  /** Stores the record unless another node than `record.node` holds it now; false then (see `SessionStore.save`). */
  save(node: NodeId, record: SessionRecord): boolean {
    this.nodes.check(node);
    const held = this.records.get(record.id);
    if (held && held.node !== record.node) return false;
    this.records.set(record.id, copy(record));
    return true;
  }

  take(node: NodeId, id: SessionId, tokenHash: string, options: TakeOptions): TakenSession | null {
    this.nodes.check(node);
    const record = this.records.get(id);
    if (!record || record.tokenHash !== tokenHash) return null;
    if (options.expectedUser !== undefined && (record.user ?? null) !== options.expectedUser) return null;
    const holder = this.nodes.get(record.node);
    const now = this.now();
    const resumable =
      record.expiresAt !== null
        ? record.expiresAt > now
        : holder?.alive === true || (holder?.diedAt != null && holder.diedAt + record.windowMs > now);
    if (!resumable) return null;
    const previousNode = record.node;
    record.node = node;
    record.expiresAt = null;
    if (options.newTokenHash !== undefined) record.tokenHash = options.newTokenHash;
    return { record: copy(record), previousNode };
  }

  /** The record, unless missing or past its expiry (as a store that expires keys would have it). */
  read(node: NodeId, id: SessionId): SessionRecord | null {
    this.nodes.check(node);
    const record = this.records.get(id);
    if (!record) return null;
    const now = this.now();
    const diedAt = this.nodes.get(record.node)?.diedAt ?? null;
    if (record.expiresAt !== null ? record.expiresAt <= now : diedAt !== null && diedAt + record.windowMs <= now) return null;
    return copy(record);
  }

  drop(node: NodeId, id: SessionId, ifNode: NodeId | undefined): boolean {
    this.nodes.check(node);
    const record = this.records.get(id);
    if (ifNode !== undefined && record !== undefined && record.node !== ifNode) return false;
    this.records.delete(id);
    return true;
  }

  /** Forgets every record (a store restarted without persistence). */
  clear(): void {
    this.records.clear();
  }
}

function copy(record: SessionRecord): SessionRecord {
  return { ...record, groups: { ...record.groups } };
}
