import type { ResumeResult } from '../../src/index.js';
import type { Plan, RealSide, StepContext } from './command-step.js';
import { KernelCommand, plan } from './command-step.js';
import { agree, ModelMismatch } from './invariants.js';
import type { Outcome } from './invariants.js';
import type { ExpectedResume, KernelModel, NodeName } from './kernel-model.js';
import { drainMicrotasks } from './virtual-clock.js';

/** Throws unless the operation succeeded; returns its value. */
function succeeded<T>(what: string, outcome: Outcome<T>): T {
  if (!('value' in outcome)) throw new ModelMismatch(`${what}: refused ${outcome.code}, the model says it succeeds`);
  return outcome.value;
}

/** A session that exists nowhere connects to `node` (resumable: it gets a token). */
export class RegisterCommand extends KernelCommand {
  constructor(
    readonly session: string,
    readonly node: NodeName,
  ) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return !model.sessions.has(this.session);
  }

  override actor(): string | null {
    return this.session;
  }

  toString(): string {
    return `register(${this.session}@${this.node})`;
  }

  plan(model: KernelModel, { cluster }: RealSide): Plan {
    const token = model.nextToken(this.session);
    return plan(
      () => cluster.nodes[this.node].registerSession(this.session, { tokenHash: token }),
      (m) => {
        m.register(this.session, this.node, token);
        return (outcome) => void succeeded(`${this}`, outcome);
      },
    );
  }
}

/** A session ends on its node (a close 1000): it leaves every group with `disconnect`. */
export class UnregisterCommand extends KernelCommand {
  constructor(readonly session: string) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return model.sessions.has(this.session);
  }

  override actor(): string | null {
    return this.session;
  }

  toString(): string {
    return `unregister(${this.session})`;
  }

  plan(model: KernelModel, { cluster }: RealSide): Plan {
    const node = model.sessions.get(this.session)?.node ?? 'A';
    return plan(
      () => cluster.nodes[node].unregisterSession(this.session),
      (m) => {
        m.unregister(this.session);
        return (outcome) => void succeeded(`${this}`, outcome);
      },
    );
  }
}

/** A connected session's connection drops: it is suspended with the offsets its client has. */
export class SuspendCommand extends KernelCommand {
  constructor(readonly session: string) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return model.sessions.get(this.session)?.phase === 'connected';
  }

  override actor(): string | null {
    return this.session;
  }

  toString(): string {
    return `suspend(${this.session})`;
  }

  plan(model: KernelModel, { cluster, view }: RealSide): Plan {
    const held = model.sessions.get(this.session);
    const offsets: Record<string, number> = {};
    for (const group of held?.groups ?? []) offsets[group] = view.lastOffset(this.session, group) ?? 0;
    return plan(
      () => cluster.nodes[held?.node ?? 'A'].suspendSession(this.session, offsets),
      (m) => {
        m.suspend(this.session, offsets);
        return (outcome) => void succeeded(`${this}`, outcome);
      },
    );
  }
}

/**
 * A client resumes a session on `node`, with its current token or a wrong one. Refused (null) for a wrong token or a
 * session that ended; else the session moves to `node` and its groups are rejoined or reported lost, the replay of
 * each must continue what the client has, and the node that held it (unless it stays suspended-then-resumed on the
 * same node) hears it was `taken`.
 */
export class ResumeCommand extends KernelCommand {
  constructor(
    readonly session: string,
    readonly node: NodeName,
    readonly rightToken: boolean,
  ) {
    super();
  }

  check(): boolean {
    return true;
  }

  override actor(): string | null {
    return this.session;
  }

  toString(): string {
    return `resume(${this.session}@${this.node}${this.rightToken ? '' : ', wrong token'})`;
  }

  plan(model: KernelModel, real: RealSide, context: StepContext): Plan {
    const { cluster } = real;
    const token = this.rightToken ? (model.sessions.get(this.session)?.token ?? `${this.session}-never-registered`) : 'wrong-token';
    const newToken = model.nextToken(this.session);
    const resume = async () => {
      const endedBefore = cluster.ended.length;
      const result = await cluster.nodes[this.node].resumeSession(this.session, token, newToken);
      // The old holder hears of the take over the bus.
      await drainMicrotasks();
      return { result, ended: cluster.ended.slice(endedBefore).filter((entry) => entry.session === this.session) };
    };
    return plan(resume, (m) => {
      const previous = m.sessions.get(this.session);
      const wasConnected = previous?.phase === 'connected';
      const expected = m.resume(this.session, this.node, token, newToken);
      return (outcome) => {
        const { result, ended } = succeeded(`${this}`, outcome);
        if (!expected) return agree(`${this}`, result, null);
        if (!result) throw new ModelMismatch(`${this}: refused, but the model resumes it from ${expected.previous}`);
        this.verifyGroups(m, real, expected, result, context);
        if (context.concurrent) return;
        const told = wasConnected || expected.previous !== this.node ? [{ node: expected.previous, session: this.session, reason: 'taken' }] : [];
        agree(`${this}: onSessionEnded calls`, ended, told);
      };
    });
  }

  private verifyGroups(model: KernelModel, { view }: RealSide, expected: ExpectedResume, result: ResumeResult, context: StepContext): void {
    agree(`${this}: groups rejoined`, result.groups.map((g) => g.group).sort(), expected.rejoined.map((g) => g.group).sort());
    // At once with a discard, the record read at the take may still hold the discarded group: it is then lost too.
    const lateLost = context.concurrent ? result.lost.filter((group) => !expected.lost.includes(group) && !model.groups.has(group)) : [];
    agree(`${this}: groups lost`, result.lost.filter((group) => !lateLost.includes(group)).sort(), [...expected.lost].sort());
    for (const rejoin of expected.rejoined) {
      const got = result.groups.find((g) => g.group === rejoin.group);
      if (!got) continue;
      agree(`${this}: replay of ${rejoin.group} complete`, got.complete, true);
      // At once with the suspension, the take may read the record before the suspension's offsets are in it: the
      // replay then starts earlier and repeats what the client has (which it drops), never later.
      const earlier = context.concurrent && rejoin.since !== null && got.since <= rejoin.since;
      if (rejoin.since !== null && !earlier) agree(`${this}: replay of ${rejoin.group} starts after`, got.since, rejoin.since);
      if (rejoin.sameIncarnation) {
        // The replay ends where the group was when the session rejoined it (the model's offset at that point).
        agree(`${this}: replay of ${rejoin.group} ends at`, got.messages.at(-1)?.offset ?? got.since, model.groups.get(rejoin.group)?.offset);
        view.replay(this.session, rejoin.group, got.since, got.messages);
      }
      // v1's known limitation (docs/protocol.md, "Planned (v1.1)", group epochs): a resume slides the session into a
      // group created again under the same id, with the old offsets; the client view restarts from the group's latest.
      else view.follow(this.session, rejoin.group, model.groups.get(rejoin.group)?.offset ?? 0);
    }
  }
}
