import type { Backend } from '../port/backend.js';
import type { ReplicaEvent } from '../port/group-log.js';
import type { GroupId, GroupSpec, MemberInfo } from '../types.js';
import { assertEqual } from './assertions.js';
import type { RecordingHandler } from './recording-handler.js';
import type { TestApi } from './test-api.js';

/** Options a contract test may ask of the store behind the nodes. */
export interface ContractStoreOptions {
  /** Messages kept per group. */
  historySize?: number;
  /** Bytes kept per group: the UTF-8 size of the messages' `data` as JSON, summed. */
  historyMaxBytes?: number;
}

/**
 * Makes `count` backends (nodes with distinct ids) sharing one fresh store, not started. Called once per test; the
 * suite starts them and closes them after the test.
 */
export type MakeNodes = (count: number, options: ContractStoreOptions) => Backend[] | Promise<Backend[]>;

/** The started nodes of one test, each with the handler recording what it got. */
export interface ContractCluster {
  nodes: Backend[];
  handlers: RecordingHandler[];
}

/** Starts nodes for one test (3 by default); the suite closes them after it. */
export type Setup = (count?: number, options?: ContractStoreOptions) => Promise<ContractCluster>;

/** What each part of the suite registers its tests with. */
export interface ContractCases {
  api: TestApi;
  setup: Setup;
}

/** Three nodes and their handlers, for destructuring. */
export type Three = [Backend, Backend, Backend, RecordingHandler, RecordingHandler, RecordingHandler];

/** The first three nodes of a cluster and their handlers. */
export function three(cluster: ContractCluster): Three {
  const [a, b, c] = cluster.nodes as [Backend, Backend, Backend];
  const [ha, hb, hc] = cluster.handlers as [RecordingHandler, RecordingHandler, RecordingHandler];
  return [a, b, c, ha, hb, hc];
}

const run = globalThis.crypto.randomUUID().slice(0, 8);
let sequence = 0;

/** An id unique within the test run (group ids, session ids). */
export function gid(label = 'g'): GroupId {
  return `${label}-${run}-${++sequence}`;
}

/** A group spec with the defaults of the suite. */
export function spec(id: GroupId, options: Partial<GroupSpec> = {}): GroupSpec {
  return { id, allowEmpty: false, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false, ...options };
}

/** A member, with join data when given. */
export function member(id: string, node: string, data?: unknown): MemberInfo {
  const m: MemberInfo = { id, node };
  if (data !== undefined) m.data = data;
  return m;
}

/** Members sorted by id. */
export function byId(members: readonly MemberInfo[]): MemberInfo[] {
  return [...members].sort((x, y) => x.id.localeCompare(y.id));
}

/** The events of one type. */
export function ofType<T extends ReplicaEvent['type']>(events: ReplicaEvent[], type: T): Array<Extract<ReplicaEvent, { type: T }>> {
  return events.filter((e): e is Extract<ReplicaEvent, { type: T }> => e.type === type);
}

/** Asserts that a node received the group's events with versions exactly `from..to`, in order, once each. */
export function assertVersions(handler: RecordingHandler, group: GroupId, from: number, to: number): void {
  const expected = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  assertEqual(handler.versions(group), expected, `${handler.name}'s versions of ${group}`);
}
