import type { CreateRequest } from '../../src/index.js';
import type { Plan, RealSide, StepContext } from './command-step.js';
import { canSendFrom, KernelCommand, nodeFor, plan, viaText } from './command-step.js';
import { agree } from './invariants.js';
import type { Outcome } from './invariants.js';
import type { Expected, KernelModel, NodeName } from './kernel-model.js';

/** Throws unless the real outcome has the code the model expects (a catalog code, or 'ok'); true on a success. */
function sameCode(what: string, outcome: Outcome<unknown>, expected: Expected<unknown>): boolean {
  agree(what, outcome.code, 'error' in expected ? expected.error : 'ok');
  return 'value' in outcome;
}

/** The options of a `create` step. */
export interface CreateOptions {
  join: boolean;
  allowEmpty: boolean;
  maxMembers: number | null;
  ttlMs: number | null;
}

/** A session creates a group (joining it or not, with or without allowEmpty, a size limit and a ttl). */
export class CreateCommand extends KernelCommand {
  constructor(
    readonly session: string,
    readonly via: NodeName | null,
    readonly group: string,
    readonly options: CreateOptions,
  ) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return canSendFrom(model, this.session, nodeFor(model, this.session, this.via));
  }

  override actor(): string | null {
    return this.session;
  }

  toString(): string {
    const { join, allowEmpty, maxMembers, ttlMs } = this.options;
    const flags = [join ? 'join' : 'no join', allowEmpty ? 'allowEmpty' : '', maxMembers ? `max ${maxMembers}` : '', ttlMs ? `ttl ${ttlMs}` : ''];
    return `create(${this.session}${viaText(this.via)}, ${this.group}, ${flags.filter(Boolean).join(' ')})`;
  }

  /**
   * What this create may leave when a resume took its session over while it was in flight (its answer reaches nobody):
   * the group it created, which the session is no longer in (its node took the member out again once it found the
   * session taken: the resume had read the record before the group was in it).
   */
  leftBehind(model: KernelModel): KernelModel {
    const node = nodeFor(model, this.session, this.via);
    const created = model.create(this.session, node, { group: this.group, ...this.options });
    const between = model.clone();
    if ('ok' in created && this.options.join) model.leave(this.session, node, this.group);
    return between;
  }

  plan(model: KernelModel, { cluster, view }: RealSide, context: StepContext): Plan {
    const node = nodeFor(model, this.session, this.via);
    const request: CreateRequest = { group: this.group, join: this.options.join, allowEmpty: this.options.allowEmpty };
    if (this.options.maxMembers !== null) request.maxMembers = this.options.maxMembers;
    if (this.options.ttlMs !== null) request.ttlMs = this.options.ttlMs;
    return plan(
      () => cluster.nodes[node].create(this.session, request),
      (m) => {
        const expected = m.create(this.session, node, { group: this.group, ...this.options });
        return (outcome) => {
          if (!sameCode(`${this}`, outcome, expected) || !('value' in outcome)) return;
          if (this.options.join) view.follow(this.session, this.group, 0);
          // At once with the end of the session, the answer (to a client that is gone) may already miss the creator.
          if (context.concurrent) return;
          const members = outcome.value.members.map((member) => `${member.id}@${member.node}`);
          agree(`${this}: members`, members, this.options.join ? [`${this.session}@${node}`] : []);
        };
      },
    );
  }
}

/** A session joins a group. */
export class JoinCommand extends KernelCommand {
  constructor(
    readonly session: string,
    readonly via: NodeName | null,
    readonly group: string,
  ) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return canSendFrom(model, this.session, nodeFor(model, this.session, this.via));
  }

  override actor(): string | null {
    return this.session;
  }

  toString(): string {
    return `join(${this.session}${viaText(this.via)}, ${this.group})`;
  }

  /**
   * What this join may leave when a resume took its session over while it was in flight (its answer reaches nobody):
   * the group was joined and left again (`disconnect`: its node took the member out once it found the session taken,
   * the resume having read the record before the group was in it). Returns the state in between, for the deliveries.
   */
  leftBehind(model: KernelModel): KernelModel {
    const node = nodeFor(model, this.session, this.via);
    const joined = model.join(this.session, node, this.group);
    const between = model.clone();
    if ('ok' in joined && !joined.ok.already) model.leave(this.session, node, this.group);
    return between;
  }

  plan(model: KernelModel, { cluster, view }: RealSide): Plan {
    const node = nodeFor(model, this.session, this.via);
    return plan(
      () => cluster.nodes[node].join(this.session, this.group),
      (m) => {
        const expected = m.join(this.session, node, this.group);
        return (outcome) => {
          if (!sameCode(`${this}`, outcome, expected) || !('value' in outcome) || !('ok' in expected)) return;
          agree(`${this}: already and offset`, [outcome.value.already, outcome.value.offset], [expected.ok.already, expected.ok.offset]);
          if (!expected.ok.already) view.follow(this.session, this.group, outcome.value.offset);
        };
      },
    );
  }
}

/** A session leaves a group. */
export class LeaveCommand extends KernelCommand {
  constructor(
    readonly session: string,
    readonly via: NodeName | null,
    readonly group: string,
  ) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return canSendFrom(model, this.session, nodeFor(model, this.session, this.via));
  }

  override actor(): string | null {
    return this.session;
  }

  toString(): string {
    return `leave(${this.session}${viaText(this.via)}, ${this.group})`;
  }

  plan(model: KernelModel, { cluster }: RealSide, _context?: StepContext): Plan {
    const node = nodeFor(model, this.session, this.via);
    return plan(
      () => cluster.nodes[node].leave(this.session, this.group),
      (m) => {
        const expected = m.leave(this.session, node, this.group);
        return (outcome) => void sameCode(`${this}`, outcome, expected);
      },
    );
  }
}

/** A session broadcasts to a group (with `self` or not), or the node announces (`session` null). */
export class PublishCommand extends KernelCommand {
  constructor(
    readonly session: string | null,
    readonly via: NodeName | null,
    readonly group: string,
    readonly self: boolean,
  ) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return this.session === null || canSendFrom(model, this.session, nodeFor(model, this.session, this.via));
  }

  override actor(): string | null {
    return this.session;
  }

  toString(): string {
    if (this.session === null) return `announce(${this.via ?? 'A'}, ${this.group})`;
    return `broadcast(${this.session}${viaText(this.via)}, ${this.group}${this.self ? ', self' : ''})`;
  }

  plan(model: KernelModel, { cluster, view }: RealSide, _context?: StepContext): Plan {
    const { session, group, self } = this;
    const node = session === null ? (this.via ?? 'A') : nodeFor(model, session, this.via);
    const kernel = cluster.nodes[node];
    const data = { step: `${this}` };
    return plan(
      () => (session === null ? kernel.announce(group, data) : kernel.broadcast(session, group, data, { self })),
      (m) => {
        const expected = m.publish(session, node, group, self);
        return (outcome) => {
          if (!sameCode(`${this}`, outcome, expected) || !('value' in outcome) || !('ok' in expected)) return;
          agree(`${this}: offset and recipients`, [outcome.value.offset, outcome.value.recipients], [expected.ok.offset, expected.ok.recipients]);
          if (session !== null && !self) view.sent(session, group, outcome.value.offset);
        };
      },
    );
  }
}

/** The embedding program (or the admin API) discards a group, through either node. */
export class DiscardCommand extends KernelCommand {
  constructor(
    readonly node: NodeName,
    readonly group: string,
  ) {
    super();
  }

  check(): boolean {
    return true;
  }

  toString(): string {
    return `discard(${this.node}, ${this.group})`;
  }

  plan(_model: KernelModel, { cluster }: RealSide): Plan {
    return plan(
      () => cluster.nodes[this.node].discard(this.group),
      (m) => {
        const expected = m.discard(this.group);
        return (outcome) => void sameCode(`${this}`, outcome, expected);
      },
    );
  }
}

/** Time passes: graces and resume windows that run out meanwhile end, in time order. */
export class AdvanceCommand extends KernelCommand {
  constructor(readonly ms: number) {
    super();
  }

  check(): boolean {
    return true;
  }

  toString(): string {
    return `advance(${this.ms})`;
  }

  plan(_model: KernelModel, { cluster }: RealSide): Plan {
    return plan(
      () => cluster.clock.advance(this.ms),
      (m) => {
        m.advance(this.ms);
        return () => undefined;
      },
    );
  }
}

/**
 * A step of a member of `group` (the `index`-th of its connected members, counted when the step is planned): most
 * random pairs of session and group are refusals, this one mostly succeeds. Runs only when the group has a connected
 * member; the step it makes (a broadcast, a leave) names the member in any mismatch it reports.
 */
export class ByMemberCommand extends KernelCommand {
  constructor(
    readonly group: string,
    readonly index: number,
    readonly kind: 'broadcast' | 'broadcast self' | 'leave',
  ) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return this.member(model) !== undefined;
  }

  override actor(model: Readonly<KernelModel>): string | null {
    return this.member(model) ?? null;
  }

  toString(): string {
    return `${this.kind}(member ${this.index} of ${this.group})`;
  }

  plan(model: KernelModel, real: RealSide, context: StepContext): Plan {
    const session = this.member(model) ?? 'nobody';
    const step =
      this.kind === 'leave'
        ? new LeaveCommand(session, null, this.group)
        : new PublishCommand(session, null, this.group, this.kind === 'broadcast self');
    return step.plan(model, real, context);
  }

  private member(model: Readonly<KernelModel>): string | undefined {
    const members = [...(model.groups.get(this.group)?.members.keys() ?? [])].filter((session) => model.sessions.get(session)?.phase === 'connected');
    return members.length > 0 ? members[this.index % members.length] : undefined;
  }
}
