import type { GroupId, NodeId, SessionId } from '@rooms-kit/core';

/** The Redis keys of one group, all hash-tagged `{g:<id>}` so that one Lua script can touch them on Redis Cluster. */
export interface GroupKeys {
  /** String: the group's `GroupSpec` as JSON. */
  spec: string;
  /**
   * Hash: member id -> `<node>\n<rest>`, `rest` being the member's other fields as JSON (`{"user","data"}`) or ''
   * without any: scripts read and move the node without decoding JSON, and publish the member as
   * `{"id":…,"node":…` + the rest.
   */
  members: string;
  /**
   * Hash: `offset`, `v`, `ever` (had a member), `max` (maxMembers or ''), `static` ('1' / '0'), and for the history's
   * byte bound `hbytes` (running total of the bytes of every message's data JSON) and `hfirst` (that total before the
   * oldest message the last byte trim kept). Exists iff the group does.
   */
  state: string;
  /**
   * Stream: one entry per message, id `<offset>-0`, fields `f` (from), `d` (data), `s` (self), `p` (`hbytes` before
   * this message). Bounded by count (`MAXLEN ~`) and by bytes (see the `PUBLISH` script).
   */
  history: string;
  /** Hash: node id -> how many members that node holds in the group. */
  nodes: string;
  /** String: the last `v` of a discarded incarnation, so that a re-created group continues its versions. */
  tomb: string;
  /** Pub/sub channel of the group's ordered events (sharded on Redis Cluster); the scripts derive it from `state`. */
  channel: string;
}

/**
 * Key naming of the Redis backend. Every name starts with the prefix (default `rooms:`); group keys carry the
 * hash tag `{g:<id>}` (group ids contain no braces, see `GROUP_ID_PATTERN`).
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** The keys and channel of a group. */
  group(id: GroupId): GroupKeys {
    const base = `${this.prefix}{g:${id}}:`;
    return {
      spec: `${base}spec`,
      members: `${base}members`,
      state: `${base}state`,
      history: `${base}history`,
      nodes: `${base}nodes`,
      tomb: `${base}tomb`,
      channel: `${base}ev`,
    };
  }

  /** Set of every group id (`listGroups`). */
  get groups(): string {
    return `${this.prefix}groups`;
  }

  /** Set of every node id that ever heartbeated and has not been cleaned up after its death. */
  get nodes(): string {
    return `${this.prefix}nodes`;
  }

  /** Sorted set of nodes cleaned up after their death (score: when, epoch ms), so that every survivor hears of them. */
  get deadNodes(): string {
    return `${this.prefix}deadnodes`;
  }

  /**
   * String (the last heartbeat, epoch ms) with a PX expiry of `LivenessPolicy.recordLifetimeMs` (two checks less
   * than `nodeTtlMs`, at least half of it): present while the node is alive.
   */
  node(id: NodeId): string {
    return `${this.prefix}node:${id}`;
  }

  /** Pub/sub channel (classic, also on Redis Cluster) of one node's cluster bus messages (see `BusEnvelope`). */
  control(id: NodeId): string {
    return `${this.prefix}node:${id}:ctl`;
  }

  /** Set of the groups where a node may hold members (a superset: entries are pruned lazily). */
  nodeGroups(id: NodeId): string {
    return `${this.prefix}nodemembers:${id}`;
  }

  /** Set of the sessions a node may hold (a superset, like `nodeGroups`). */
  nodeSessions(id: NodeId): string {
    return `${this.prefix}nodesessions:${id}`;
  }

  /** Lock (SET NX PX, value: the owner's token) of the one survivor that cleans up after a dead node. */
  cleanupLock(id: NodeId): string {
    return `${this.prefix}cleanup:${id}`;
  }

  /** A clean stop's notice (`departures.ts`): the node left, it did not die. */
  departure(id: NodeId): string {
    return `${this.prefix}left:${id}`;
  }

  /** The store's incarnation marker (`store-marker.ts`), no expiry: gone or changed = the store lost its data. */
  storeMarker(): string {
    return `${this.prefix}store`;
  }

  /** Hash of orphaned groups to the node that adopted them (`orphan-adoptions.ts`). */
  orphans(): string {
    return `${this.prefix}orphans`;
  }

  /** Hash of a resumable session: `rec` (user and groups as JSON), `node`, `tok`, `exp`, `win`, `died`. */
  session(id: SessionId): string {
    return `${this.prefix}session:${id}`;
  }

  /** The group id of a group channel, or null when `channel` is not one. */
  groupOfChannel(channel: string): GroupId | null {
    const head = `${this.prefix}{g:`;
    if (!channel.startsWith(head) || !channel.endsWith('}:ev')) return null;
    return channel.slice(head.length, -'}:ev'.length);
  }
}
