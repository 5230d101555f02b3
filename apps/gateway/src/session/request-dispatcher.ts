import { randomUUID } from 'node:crypto';
import type { CreateRequest as KernelCreateRequest, GroupMessage, NodeManager } from '@rooms-kit/core';
import type {
  BroadcastRequest,
  CreateRequest,
  GroupResult,
  JoinRequest,
  JoinResult,
  LeaveRequest,
  Request,
  Result,
} from '@rooms-kit/protocol/server';

/** The client session a request runs for, as the dispatcher needs it. */
export interface RequestOrigin {
  /** The session id. */
  readonly session: string;
  /** Where its replies go. */
  readonly outbox: RequestOutbox;
}

/** A session's outbox as requests use it. */
export interface RequestOutbox {
  /** Parks live frames of `group` until {@link releaseGroup}, so a reply (and a replay) go out before them. */
  holdGroup(group: string): void;
  /** Sends the parked frames of `group`, dropping messages at or below `replayedUpTo` (already replayed). */
  releaseGroup(group: string, replayedUpTo: number): void;
  /** Records that the client has seen `group` up to `offset` (a fresh join's offset). */
  setOffset(group: string, offset: number): void;
  /** Forgets what the client has seen of `group` and drops its frames still held back (it left it). */
  forgetGroup(group: string): void;
  /** Sends a success reply (nothing when `ref` is undefined: fire-and-forget). */
  reply(ref: number | undefined, result: Result): void;
  /**
   * Sends history messages of `group` in order, at the client's reading pace; resolves with the last offset sent
   * (or `since` when none) once all are written or the session ended.
   */
  replay(group: string, since: number, messages: readonly GroupMessage[]): Promise<number>;
}

/**
 * Executes decoded requests against the node (docs/protocol.md "Requests and replies"): maps each op's wire fields to
 * the kernel's call (`ttl` seconds to `ttlMs`, `interval` to `intervalMs`) and its result to the wire result.
 * Failures reject with the kernel's `RoomsError`s; the caller turns them into error replies. `onPublish` is told
 * about every message published (metrics).
 */
export class RequestDispatcher {
  constructor(
    private readonly node: NodeManager,
    private readonly onPublish: () => void = () => undefined,
  ) {}

  /** Runs one request for `origin`; success replies go through `origin.outbox.reply`. */
  async dispatch(origin: RequestOrigin, request: Request): Promise<void> {
    switch (request.op) {
      case 'create':
        return this.create(origin, request);
      case 'join':
        return this.join(origin, request);
      case 'leave':
        return this.leave(origin, request);
      case 'broadcast':
        return this.broadcast(origin, request);
      case 'members': {
        const members = await this.node.members(request.group, origin.session);
        return origin.outbox.reply(request.ref, { group: request.group, members });
      }
      case 'groups': {
        const { groups, latest } = this.node.groupsOf(origin.session);
        return origin.outbox.reply(request.ref, { groups, latest });
      }
      case 'group': {
        const info = await this.node.groupInfo(request.group, origin.session);
        const result: GroupResult = { group: info.group, state: info.state, size: info.size, nodes: info.nodes, meta: info.meta, static: info.static };
        return origin.outbox.reply(request.ref, result);
      }
      case 'ping':
        return origin.outbox.reply(request.ref, {});
    }
  }

  private async create(origin: RequestOrigin, request: CreateRequest): Promise<void> {
    // The id is chosen here when absent so that the group's frames can be parked behind the reply.
    const group = request.group ?? randomUUID();
    const spec: KernelCreateRequest = { group };
    if (request.allowEmpty !== undefined) spec.allowEmpty = request.allowEmpty;
    if (request.join !== undefined) spec.join = request.join;
    if (request.ttl !== undefined) spec.ttlMs = Math.round(request.ttl * 1000);
    if (request.maxMembers !== undefined) spec.maxMembers = request.maxMembers;
    if (request.interval !== undefined) spec.intervalMs = request.interval;
    if (request.meta !== undefined) spec.meta = request.meta;
    if (request.data !== undefined) spec.data = request.data;
    const joins = spec.join ?? true;
    if (joins) origin.outbox.holdGroup(group);
    try {
      const result = await this.node.create(origin.session, spec);
      if (joins) origin.outbox.setOffset(group, 0);
      origin.outbox.reply(request.ref, { group: result.group, members: result.members });
    } finally {
      if (joins) origin.outbox.releaseGroup(group, 0);
    }
  }

  private async join(origin: RequestOrigin, request: JoinRequest): Promise<void> {
    const { group, since } = request;
    let replayedUpTo = 0;
    origin.outbox.holdGroup(group);
    try {
      const options = request.data !== undefined ? { data: request.data } : {};
      const joined = await this.node.join(origin.session, group, options);
      if (!joined.already) origin.outbox.setOffset(group, joined.offset);
      const result: JoinResult = { group: joined.group, members: joined.members, already: joined.already, offset: joined.offset };
      if (since === undefined) {
        origin.outbox.reply(request.ref, result);
        return;
      }
      // The join is done: a history that cannot be read now makes `recovered:false`, not a failed join.
      const history = await this.node.history(group, since).catch(() => ({ messages: [] as GroupMessage[], complete: false }));
      result.recovered = history.complete;
      origin.outbox.reply(request.ref, result);
      replayedUpTo = await origin.outbox.replay(group, since, history.messages);
    } finally {
      origin.outbox.releaseGroup(group, replayedUpTo);
    }
  }

  private async leave(origin: RequestOrigin, request: LeaveRequest): Promise<void> {
    const options = request.data !== undefined ? { data: request.data } : {};
    const result = await this.node.leave(origin.session, request.group, options);
    origin.outbox.forgetGroup(request.group);
    origin.outbox.reply(request.ref, { group: result.group });
  }

  private async broadcast(origin: RequestOrigin, request: BroadcastRequest): Promise<void> {
    const options = request.self !== undefined ? { self: request.self } : {};
    const result = await this.node.broadcast(origin.session, request.group, request.data, options);
    this.onPublish();
    origin.outbox.reply(request.ref, { recipients: result.recipients, offset: result.offset });
  }
}
