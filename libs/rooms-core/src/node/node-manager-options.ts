import type { Clock, Now } from '../clock.js';
import type { DeliveryPort } from '../delivery.js';
import type { Logger } from '../logger.js';
import type { Backend } from '../port/backend.js';
import type { GroupId, MemberInfo, NodeId, SessionId } from '../types.js';

/** Default `NodeManagerOptions.nodeTtlMs`: the node TTL the Redis backend and the gateway (`ROOMS_NODE_TTL_MS`) default to. */
export const DEFAULT_NODE_TTL_MS = 3000;

/** Options of a `NodeManager`. Only `delivery` is required. */
export interface NodeManagerOptions {
  /** Where events for this node's sessions go. */
  delivery: DeliveryPort;
  /** This node's id; unique per process start. Default: a random id (the backend's id when a backend is given). */
  nodeId?: NodeId;
  /** The backend (group log, session store, cluster bus). Default: an `InMemoryBackend` of its own (single node). */
  backend?: Backend;
  /** How long an empty group is kept when it gave no `ttlMs`. Default 5000. */
  emptyGraceMs?: number;
  /** How long a suspended session may be resumed. Default 30000. */
  resumeWindowMs?: number;
  /** Ids of static groups, created at `start()` and never discarded. */
  staticGroups?: readonly GroupId[];
  /** Largest `data` (as JSON, bytes) `announce` and `broadcast` accept; default no limit (the gateway limits frames). */
  maxPayloadBytes?: number;
  /**
   * Every this many ms, the records of connected sessions whose offsets moved are stored again, so that a resume
   * after this node's crash replays only what came after the last checkpoint (see `OffsetCheckpoint`). Default 5000;
   * 0 turns it off (a resume after a crash then replays everything since the session joined).
   */
  offsetCheckpointMs?: number;
  /**
   * How long the cluster's liveness gives a node to show it is alive (the backend's node TTL: pass the same value).
   * After a store loss every node re-asserts its members in its own time: a resync that finds members of a node still
   * live missing from the store keeps them and reads the group again this long after, removing (`left` node-down)
   * only those still missing then. Default `DEFAULT_NODE_TTL_MS` (3000).
   */
  nodeTtlMs?: number;
  /** Timers for lifecycle (grace, ttl, resume window). Default the global timers. */
  clock?: Clock;
  /** Wall clock (session expiry). Default `Date.now`. */
  now?: Now;
  logger?: Logger;
  /** Payload of `left` events for members that disconnected or whose node died (Diarkis' custom discard message). */
  disconnectMessage?: (member: MemberInfo, group: GroupId, reason: 'disconnect' | 'node-down') => unknown;
  /** Payload of `rejoined` events (Diarkis' custom rejoin message). */
  rejoinMessage?: (member: MemberInfo, group: GroupId) => unknown;
  /** A session may be in at most this many groups (create/join beyond it reject `FORBIDDEN`). Default unlimited. */
  maxGroupsPerSession?: number;
  /**
   * A session may have created at most this many groups that this node still supervises, joined or not (a further
   * `create` rejects `FORBIDDEN`). Counted per node (see `CreationQuota`). Default unlimited (0 too).
   */
  maxCreatedGroupsPerSession?: number;
  /**
   * This node supervises at most this many groups (a further `create` rejects `UNAVAILABLE`, temporary; joins of
   * existing groups are not refused). Default unlimited (0 too).
   */
  maxGroups?: number;
  /** Largest member `data` (of create, join, leave) as JSON, bytes; beyond it `PAYLOAD_TOO_LARGE`. Default no limit. */
  maxMemberDataBytes?: number;
  /** Largest group `meta` as JSON, bytes; beyond it `create` rejects `PAYLOAD_TOO_LARGE`. Default no limit. */
  maxMetaBytes?: number;
  /**
   * Called when the kernel ended a session this node holds for a reason its connection must follow: `taken` (resumed
   * on another connection, here or on another node: already forgotten here without `left`; drop the old connection
   * without suspending it) or `kicked` (already removed with `left` reason `kicked`; close the connection with 4003).
   */
  onSessionEnded?: (session: SessionId, reason: 'taken' | 'kicked') => void;
}
