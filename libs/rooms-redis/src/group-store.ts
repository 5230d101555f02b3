import { RoomsError } from '@rooms-kit/core';
import type { GroupId, GroupSnapshot, GroupSpec, LeaveReason, Logger, MemberInfo, NodeId, RestoredMessage, SessionId, StoredMessage } from '@rooms-kit/core';
import { decodeStoredMember, encodeData, encodeMemberRest, encodeOptionalData } from './event-codec.js';
import type { GroupKeys, RedisKeys } from './keys.js';
import { asArray, asInt, asString, asStrings } from './replies.js';
import type { ScriptRunner } from './script-runner.js';
import type { GroupScriptName } from './scripts.js';

/** How long a discarded group's last version is kept, so that a re-created group continues after it. */
const TOMB_TTL_MS = 10 * 60_000;

/** A group key a script may take; `state` always comes first (see group-scripts.ts). */
type GroupKeyName = Exclude<keyof GroupKeys, 'channel'>;

/** The bounds of each group's history stream (see the `PUBLISH` script). */
export interface HistoryBounds {
  /** Messages kept, approximately (`MAXLEN ~`). */
  maxCount: number;
  /** Bytes kept, exactly: the UTF-8 size of the messages' `data` as JSON, summed. */
  maxBytes: number;
}

/** The group keys each group script takes, in order (keys of other slots follow on single Redis: see group-scripts.ts). */
const SCRIPT_KEYS: Record<GroupScriptName, readonly GroupKeyName[]> = {
  create: ['state', 'spec', 'members', 'history', 'nodes', 'tomb'],
  read: ['state', 'spec', 'members'],
  join: ['state', 'members', 'nodes'],
  leave: ['state', 'members', 'nodes'],
  rejoin: ['state', 'members', 'nodes'],
  publish: ['state', 'members', 'history'],
  discard: ['state', 'spec', 'members', 'history', 'nodes', 'tomb'],
  removeNode: ['state', 'members', 'nodes'],
  reassert: ['state', 'spec', 'members', 'history', 'nodes', 'tomb'],
  restore: ['state', 'history'],
  history: ['state', 'history'],
};

/**
 * GroupStore: one method per group script (see group-scripts.ts), with the group's keys filled in and the reply parsed.
 * Business refusals become `RoomsError` codes (`GROUP_EXISTS`, `GROUP_NOT_FOUND`, `GROUP_FULL`) or null; Redis
 * failures are left to the caller to map. Each method is one atomic step on Redis.
 *
 * On single Redis (`otherSlotsInScripts`) the scripts also keep the `groups` set and the node index
 * (`nodemembers:<node>`, see `NodeIndex`) in the same step; on Redis Cluster those live in other slots and the
 * backend keeps them with commands of their own.
 */
export class GroupStore {
  constructor(
    private readonly runner: ScriptRunner,
    private readonly keys: RedisKeys,
    /** Single Redis: the scripts keep the `groups` set and the node index themselves. */
    readonly otherSlotsInScripts: boolean,
    /** This node (its index is pruned by `leave` of its own members). */
    private readonly self: NodeId,
    private readonly historyBounds: HistoryBounds,
    private readonly logger: Logger,
  ) {}

  /** Creates a group, with its first member. Rejects `GROUP_EXISTS`. Resolves with the snapshot. */
  async create(spec: GroupSpec, first: MemberInfo | null): Promise<GroupSnapshot> {
    const firstArgs = first ? [first.id, first.node, encodeMemberRest(first)] : ['', '', ''];
    const other = this.otherSlotsInScripts ? [this.keys.groups, ...(first ? [this.keys.nodeGroups(first.node)] : [])] : [];
    const reply = asArray(await this.run('create', spec.id, [JSON.stringify(spec), maxOf(spec), spec.static ? '1' : '0', ...firstArgs], other));
    if (reply[0] === 'GROUP_EXISTS') throw new RoomsError('GROUP_EXISTS');
    return { spec, members: first ? [first] : [], offset: 0, v: asInt(reply[1]), everActive: first !== null };
  }

  /** The group's snapshot, read atomically; null when it does not exist. */
  async read(group: GroupId): Promise<GroupSnapshot | null> {
    const reply = await this.run('read', group, []);
    return reply === null ? null : this.parseSnapshot(group, asArray(reply), 1);
  }

  /** Adds a member (checking `maxMembers`); `already` (no change) for a member. Rejects `GROUP_NOT_FOUND`, `GROUP_FULL`. */
  async join(group: GroupId, member: MemberInfo): Promise<{ already: boolean; v: number; offset: number }> {
    const reply = asArray(await this.run('join', group, [member.id, member.node, encodeMemberRest(member)], this.indexOf(member.node)));
    const status = reply[0];
    if (status === 'GROUP_NOT_FOUND' || status === 'GROUP_FULL') throw new RoomsError(status);
    return { already: status === 'ALREADY', v: asInt(reply[1]), offset: asInt(reply[2]) };
  }

  /**
   * Removes a member. Null when it was not one; else the event's `v`, the member's node and whether that node has no
   * member left there and its index is still to be pruned (on single Redis the script prunes this node's own).
   */
  async leave(group: GroupId, member: SessionId, reason: LeaveReason, data: unknown): Promise<{ v: number; node: NodeId; nodeEmptied: boolean } | null> {
    const reply = asArray(await this.run('leave', group, [member, reason, encodeOptionalData(data), this.self], this.indexOf(this.self)));
    if (reply[0] === 'GROUP_NOT_FOUND') throw new RoomsError('GROUP_NOT_FOUND');
    if (reply[0] === 'NONE') return null;
    return { v: asInt(reply[1]), node: asString(reply[2]), nodeEmptied: asInt(reply[3]) === 1 };
  }

  /** Puts a member (back) on its node, keeping the stored member's join data. Null when the group is missing or full. */
  async rejoin(group: GroupId, member: MemberInfo): Promise<{ v: number; previousNode: NodeId | null; previousEmptied: boolean } | null> {
    const reply = asArray(await this.run('rejoin', group, [member.id, member.node, encodeMemberRest(member)], this.indexOf(member.node)));
    if (reply[0] === 'NONE') return null;
    const previous = asString(reply[2]);
    return { v: asInt(reply[1]), previousNode: previous === '' ? null : previous, previousEmptied: asInt(reply[3]) === 1 };
  }

  /**
   * Appends a message with the next offset and publishes it, trimming the history to its bounds in the same step.
   * `json` is `data` as JSON when the caller has it (see `GroupLog.publish`). Rejects `GROUP_NOT_FOUND`.
   */
  async publish(group: GroupId, from: SessionId | null, data: unknown, self: boolean, json?: string): Promise<{ offset: number; size: number }> {
    const { maxCount, maxBytes } = this.historyBounds;
    const args = [from ?? '', json ?? encodeData(data), self ? '1' : '0', maxCount, maxBytes];
    const reply = asArray(await this.run('publish', group, args));
    if (reply[0] === 'GROUP_NOT_FOUND') throw new RoomsError('GROUP_NOT_FOUND');
    return { offset: asInt(reply[1]), size: asInt(reply[2]) };
  }

  /** Discards a group. Null when nothing was discarded; else the nodes that held members. */
  async discard(group: GroupId, ifEmpty: boolean, reason: 'empty' | 'admin'): Promise<{ nodes: NodeId[] } | null> {
    const reply = asArray(await this.run('discard', group, [ifEmpty ? '1' : '0', reason, TOMB_TTL_MS], this.groupsSet()));
    if (reply[0] !== 'OK') return null;
    return { nodes: asStrings(reply.slice(2)) };
  }

  /**
   * Removes every member `node` holds in the group with `left` reason `node-down`. Resolves with how many, and whether
   * the group (still there) has no member left: emptied by this call, or by an earlier cleanup that died halfway.
   */
  async removeNode(group: GroupId, node: NodeId): Promise<{ removed: number; emptied: boolean }> {
    const reply = asArray(await this.run('removeNode', group, [node]));
    return { removed: asInt(reply[0]), emptied: asInt(reply[1]) === 1 };
  }

  /**
   * Re-creates a group when missing (offset and version never go back) and re-adds `node`'s members of `snapshot`
   * that are missing, while the group has room by its stored `maxMembers`. Resolves with whether it was created, how
   * many members were added and how many found no room.
   */
  async reassert(snapshot: GroupSnapshot, node: NodeId): Promise<{ created: boolean; v: number; added: number; refused: number }> {
    const { spec } = snapshot;
    const members = snapshot.members.filter((m) => m.node === node).flatMap((m) => [m.id, encodeMemberRest(m)]);
    const args = [JSON.stringify(spec), maxOf(spec), spec.static ? '1' : '0', snapshot.offset, snapshot.v, snapshot.everActive ? 1 : 0, node, ...members];
    const reply = asArray(await this.run('reassert', spec.id, args, this.groupsSet()));
    return { created: asInt(reply[0]) === 1, v: asInt(reply[1]), added: asInt(reply[2]), refused: asInt(reply[3]) };
  }

  /**
   * Writes back messages the store lost and publishes them again, in offset order (see the RESTORE script and
   * `GroupLog.reassert`). Resolves with how many were restored.
   */
  async restore(group: GroupId, messages: readonly RestoredMessage[]): Promise<number> {
    const { maxCount, maxBytes } = this.historyBounds;
    const args: Array<string | number> = [maxCount, maxBytes];
    for (const m of messages) args.push(m.offset, m.from ?? '', m.json, m.self ? '1' : '0');
    return asInt(await this.run('restore', group, args));
  }

  /**
   * The messages after offset `since` and up to `until` (default: the latest), each with its `self` flag, and the
   * group's latest offset. `complete` is false when the bounded history no longer holds the first of them.
   * Rejects `GROUP_NOT_FOUND`.
   */
  async history(group: GroupId, since: number, until = Infinity): Promise<{ messages: StoredMessage[]; offset: number; complete: boolean }> {
    const reply = asArray(await this.run('history', group, [since + 1]));
    if (reply[0] === 'GROUP_NOT_FOUND') throw new RoomsError('GROUP_NOT_FOUND');
    const offset = asInt(reply[0]);
    const messages: StoredMessage[] = [];
    for (let i = 1; i + 3 < reply.length; i += 4) {
      const at = asInt(asString(reply[i]).split('-')[0]);
      if (at > until) break;
      const from = parseJsonOr(asString(reply[i + 1]), null);
      messages.push({
        group,
        from: typeof from === 'string' ? from : null,
        data: parseJsonOr(asString(reply[i + 2]), null),
        offset: at,
        self: asString(reply[i + 3]) === 'true',
      });
    }
    const last = Math.min(offset, until);
    const complete = since >= last || messages[0]?.offset === since + 1;
    return { messages, offset, complete };
  }

  /**
   * Runs a group script with the group keys it takes (see `SCRIPT_KEYS`), then `other` keys; the script derives the
   * group id and channel from the keys.
   */
  private run(name: GroupScriptName, group: GroupId, args: Array<string | number>, other: readonly string[] = []): Promise<unknown> {
    const k = this.keys.group(group);
    return this.runner.run(name, [...SCRIPT_KEYS[name].map((key) => k[key]), ...other], args);
  }

  /** The `groups` set as a script's extra key, on single Redis. */
  private groupsSet(): string[] {
    return this.otherSlotsInScripts ? [this.keys.groups] : [];
  }

  /** A node's index as a script's extra key, on single Redis. */
  private indexOf(node: NodeId): string[] {
    return this.otherSlotsInScripts ? [this.keys.nodeGroups(node)] : [];
  }

  private parseSnapshot(group: GroupId, reply: unknown[], from: number): GroupSnapshot {
    const spec = JSON.parse(asString(reply[from])) as GroupSpec;
    const members: MemberInfo[] = [];
    for (let i = from + 4; i + 1 < reply.length; i += 2) {
      const member = decodeStoredMember(asString(reply[i]), asString(reply[i + 1]));
      if (member) members.push(member);
      else this.logger.error({ group }, 'malformed member record in Redis; skipped');
    }
    return { spec, members, offset: asInt(reply[from + 1]), v: asInt(reply[from + 2]), everActive: asInt(reply[from + 3]) === 1 };
  }
}

function maxOf(spec: GroupSpec): string {
  return spec.maxMembers === null ? '' : String(spec.maxMembers);
}

function parseJsonOr(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}
