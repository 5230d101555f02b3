import type { ErrorCode, GroupState } from '../../src/index.js';

/** The two nodes of a property run, both on one store. */
export type NodeName = 'A' | 'B';

/** Both node names. */
export const NODE_NAMES: readonly NodeName[] = ['A', 'B'];

/** The lifecycle timings every run uses (short, so that `advance` commands cross them often). */
export const TIMINGS = Object.freeze({ emptyGraceMs: 1000, resumeWindowMs: 1500 });

/** A group as the model has it. `members` maps each member to the node that holds it, in join order. */
export interface ModelGroup {
  members: Map<string, NodeName>;
  /** The latest message's offset (0 before the first). */
  offset: number;
  /** Whether it ever had a member (an empty group is then in `empty-grace`, else in `created`). */
  everActive: boolean;
  /** Its grace when empty: its ttl, else the node's empty grace. */
  graceMs: number;
  maxMembers: number | null;
  /** While empty: when its grace ends and it is discarded. */
  deadline: number | null;
  /** Counts the creations of this id: a resume into another incarnation is v1's known limitation (no epochs yet). */
  incarnation: number;
}

/** A session as the model has it: where it is held, whether its connection is up, its groups. */
export interface ModelSession {
  node: NodeName;
  phase: 'connected' | 'suspended';
  /** The current resume token's hash. */
  token: string;
  groups: Set<string>;
  /** While suspended: per group, the offset the connection had and the incarnation it had it of. */
  suspended: Map<string, { since: number; incarnation: number }> | null;
  /** While suspended: when the resume window ends. */
  expiresAt: number | null;
}

/** An expected refusal, or success. */
export type Expected<T = undefined> = { error: ErrorCode } | { ok: T };

/** What a successful resume must do to one group of the session's record. */
export interface ExpectedRejoin {
  group: string;
  /** The offset the replay starts after (known for a suspended session: its suspension's offsets). */
  since: number | null;
  /** False when the group was discarded and created again meanwhile: the replay's offsets are of another group. */
  sameIncarnation: boolean;
}

/** What a resume must return. Null when it must be refused. */
export interface ExpectedResume {
  previous: NodeName;
  rejoined: ExpectedRejoin[];
  lost: string[];
}

/** A `create` as the model takes it. */
export interface ModelCreate {
  group: string;
  join: boolean;
  allowEmpty: boolean;
  maxMembers: number | null;
  ttlMs: number | null;
}

/** The visible state of a model group. */
export function stateOf(group: ModelGroup): GroupState {
  if (group.members.size > 0) return 'active';
  return group.everActive ? 'empty-grace' : 'created';
}

/**
 * KernelModel: the reference the property runs compare two real nodes against: per group its members (and the node of
 * each), latest offset and lifecycle state; per session its node, connection phase, token and groups; the virtual
 * time and the deadlines (grace, resume window) it passes. Each operation returns what the kernel must answer
 * (a catalog code, or success) and applies the change on success. Plain data: `clone()` copies it.
 */
export class KernelModel {
  now: number;
  readonly groups = new Map<string, ModelGroup>();
  readonly sessions = new Map<string, ModelSession>();
  private tokens = 0;
  private incarnations = 0;

  constructor(now: number) {
    this.now = now;
  }

  /** A deep copy (to compare what a command changed). */
  clone(): KernelModel {
    const copy = new KernelModel(this.now);
    copy.tokens = this.tokens;
    copy.incarnations = this.incarnations;
    for (const [id, group] of this.groups) copy.groups.set(id, { ...group, members: new Map(group.members) });
    for (const [id, session] of this.sessions) {
      copy.sessions.set(id, { ...session, groups: new Set(session.groups), suspended: session.suspended && new Map(session.suspended) });
    }
    return copy;
  }

  /** Makes this model what `other` is (fast-check hands the same model object to every step). */
  restore(other: KernelModel): void {
    const copy = other.clone();
    this.now = copy.now;
    this.tokens = copy.tokens;
    this.incarnations = copy.incarnations;
    this.groups.clear();
    for (const [id, group] of copy.groups) this.groups.set(id, group);
    this.sessions.clear();
    for (const [id, session] of copy.sessions) this.sessions.set(id, session);
  }

  /** A fresh token hash (each register and resume hands one out). */
  nextToken(session: string): string {
    return `${session}-token-${++this.tokens}`;
  }

  /** Whether `node` has `session` registered (connected or suspended). */
  holds(node: NodeName, session: string): boolean {
    return this.sessions.get(session)?.node === node;
  }

  /** Whether `session` is connected on `node`. */
  connectedOn(node: NodeName, session: string): boolean {
    const held = this.sessions.get(session);
    return held?.node === node && held.phase === 'connected';
  }

  register(session: string, node: NodeName, token: string): void {
    this.sessions.set(session, { node, phase: 'connected', token, groups: new Set(), suspended: null, expiresAt: null });
  }

  /** The session ends: it leaves every group. */
  unregister(session: string): void {
    const held = this.sessions.get(session);
    if (!held) return;
    this.sessions.delete(session);
    for (const group of held.groups) this.removeMember(group, session);
  }

  suspend(session: string, offsets: Record<string, number>): void {
    const held = this.sessions.get(session);
    if (!held) return;
    held.phase = 'suspended';
    held.suspended = new Map(Object.entries(offsets).map(([group, since]) => [group, { since, incarnation: this.groups.get(group)?.incarnation ?? 0 }]));
    held.expiresAt = this.now + TIMINGS.resumeWindowMs;
  }

  /**
   * A resume on `node` with `token`: null (refused, nothing changes) for an unknown session or another token. Else the
   * session moves to `node`, connected, with `newToken`; each group of its record is rejoined (it stays or becomes a
   * member) unless discarded, or full for a session that is not in it.
   */
  resume(session: string, node: NodeName, token: string, newToken: string): ExpectedResume | null {
    const held = this.sessions.get(session);
    if (!held || held.token !== token) return null;
    const expected: ExpectedResume = { previous: held.node, rejoined: [], lost: [] };
    // The record holds the session's groups, and a suspended one's offsets (also of groups discarded since).
    const record = new Map<string, { since: number; incarnation: number } | null>(held.suspended ?? []);
    for (const group of held.groups) if (!record.has(group)) record.set(group, null);
    held.node = node;
    held.phase = 'connected';
    held.token = newToken;
    held.suspended = null;
    held.expiresAt = null;
    for (const [id, from] of record) {
      const group = this.groups.get(id);
      if (!group || (!group.members.has(session) && group.maxMembers !== null && group.members.size >= group.maxMembers)) {
        expected.lost.push(id);
        held.groups.delete(id);
        continue;
      }
      this.addMember(group, session, node);
      held.groups.add(id);
      expected.rejoined.push({ group: id, since: from?.since ?? null, sameIncarnation: !from || from.incarnation === group.incarnation });
    }
    return expected;
  }

  create(session: string, node: NodeName, request: ModelCreate): Expected {
    if (!request.allowEmpty && !request.join) return { error: 'BAD_REQUEST' };
    if (!this.holds(node, session)) return { error: 'BAD_REQUEST' };
    if (this.groups.has(request.group)) return { error: 'GROUP_EXISTS' };
    const group: ModelGroup = {
      members: new Map(),
      offset: 0,
      everActive: false,
      graceMs: request.ttlMs ?? TIMINGS.emptyGraceMs,
      maxMembers: request.maxMembers,
      deadline: null,
      incarnation: ++this.incarnations,
    };
    this.groups.set(request.group, group);
    if (request.join) {
      this.addMember(group, session, node);
      this.sessions.get(session)?.groups.add(request.group);
    } else {
      group.deadline = this.now + group.graceMs;
    }
    return { ok: undefined };
  }

  /** `already` is true for a member; `offset` is the group's latest. */
  join(session: string, node: NodeName, id: string): Expected<{ already: boolean; offset: number }> {
    if (!this.holds(node, session)) return { error: 'BAD_REQUEST' };
    const group = this.groups.get(id);
    if (!group) return { error: 'GROUP_NOT_FOUND' };
    if (group.members.has(session)) return { ok: { already: true, offset: group.offset } };
    if (group.maxMembers !== null && group.members.size >= group.maxMembers) return { error: 'GROUP_FULL' };
    this.addMember(group, session, node);
    this.sessions.get(session)?.groups.add(id);
    return { ok: { already: false, offset: group.offset } };
  }

  leave(session: string, node: NodeName, id: string): Expected {
    if (!this.holds(node, session)) return { error: 'BAD_REQUEST' };
    const group = this.groups.get(id);
    if (!group) return { error: 'GROUP_NOT_FOUND' };
    if (!group.members.has(session)) return { error: 'NOT_MEMBER' };
    this.removeMember(id, session);
    this.sessions.get(session)?.groups.delete(id);
    return { ok: undefined };
  }

  /** A broadcast (`from` a session) or an announce (`from` null): the new offset and who it was addressed to. */
  publish(from: string | null, node: NodeName, id: string, self: boolean): Expected<{ offset: number; recipients: number }> {
    const group = this.groups.get(id);
    if (!group) return { error: 'GROUP_NOT_FOUND' };
    if (from !== null && !(this.holds(node, from) && group.members.has(from))) return { error: 'NOT_MEMBER' };
    group.offset++;
    const size = group.members.size;
    return { ok: { offset: group.offset, recipients: from === null || self ? size : size - 1 } };
  }

  discard(id: string): Expected {
    const group = this.groups.get(id);
    if (!group) return { error: 'GROUP_NOT_FOUND' };
    this.groups.delete(id);
    for (const session of group.members.keys()) this.sessions.get(session)?.groups.delete(id);
    return { ok: undefined };
  }

  /** Moves the time forward, ending (in time order) the resume windows and the graces that run out meanwhile. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      const next = this.earliestDeadline();
      if (!next || next.at > target) break;
      this.now = next.at;
      if (next.kind === 'session') this.unregister(next.id);
      else this.groups.delete(next.id);
    }
    this.now = target;
  }

  private earliestDeadline(): { at: number; kind: 'session' | 'group'; id: string } | null {
    let next: { at: number; kind: 'session' | 'group'; id: string } | null = null;
    for (const [id, session] of this.sessions) {
      if (session.expiresAt !== null && (!next || session.expiresAt < next.at)) next = { at: session.expiresAt, kind: 'session', id };
    }
    for (const [id, group] of this.groups) {
      if (group.deadline !== null && (!next || group.deadline < next.at)) next = { at: group.deadline, kind: 'group', id };
    }
    return next;
  }

  private addMember(group: ModelGroup, session: string, node: NodeName): void {
    group.members.set(session, node);
    group.everActive = true;
    group.deadline = null;
  }

  private removeMember(id: string, session: string): void {
    const group = this.groups.get(id);
    if (!group?.members.delete(session)) return;
    if (group.members.size === 0) group.deadline = this.now + group.graceMs;
  }
}
