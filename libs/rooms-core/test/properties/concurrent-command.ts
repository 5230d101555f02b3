import type { Plan, RealSide } from './command-step.js';
import { checkNodes, checkStep, KernelCommand, settleStep } from './command-step.js';
import { CreateCommand, JoinCommand } from './group-commands.js';
import { ModelMismatch } from './invariants.js';
import type { KernelModel } from './kernel-model.js';
import { ResumeCommand, UnregisterCommand } from './session-commands.js';

/** The session a step ends where it is held: an unregister, or a resume that moves it to the other node. */
function endedBy(step: KernelCommand, model: Readonly<KernelModel>): string | null {
  if (step instanceof UnregisterCommand) return step.session;
  if (!(step instanceof ResumeCommand) || !step.rightToken) return null;
  const held = model.sessions.get(step.session);
  return held && held.node !== step.node ? step.session : null;
}

/**
 * One way the two steps may have happened: `apply` lists the steps that took effect, in order; a step left out is
 * either `moot` (its client's session ended under it: its answer reaches nobody, whatever it is, and it left nothing
 * behind, but for a create or join overtaken by a resume, which may land and be taken back: `leftBehind`) or `void` (an unregister of a session a resume took over: the old connection's end does not end it).
 */
interface Linearization {
  name: string;
  apply: ReadonlyArray<0 | 1>;
  moot?: 0 | 1;
  void?: 0 | 1;
  /** A moot create or join that landed and was taken back (its group stays, without the member), before `apply`. */
  leftBehind?: 0 | 1;
}

/**
 * Two steps at once (both planned from the same state, as two clients would send them): the kernel must behave as if
 * they ran one after the other, in one order or the other, or as if only one ran when it ended the session of the
 * other's client (whose answer then reaches nobody). Each way is tried on a copy of the model (and of the client view); the first under which the real
 * outcomes, the deliveries and both nodes check becomes the model. Checks that need a step alone are skipped
 * (`StepContext.concurrent`); deliveries are checked against the states before, in between and after.
 */
export class ConcurrentCommand extends KernelCommand {
  constructor(
    readonly first: KernelCommand,
    readonly second: KernelCommand,
  ) {
    super();
  }

  check(model: Readonly<KernelModel>): boolean {
    return this.first.check(model) && this.second.check(model);
  }

  toString(): string {
    return `together(${this.first}, ${this.second})`;
  }

  plan(): Plan {
    throw new Error('ConcurrentCommand runs its two steps itself');
  }

  override async run(model: KernelModel, real: RealSide): Promise<void> {
    const ways = this.linearizations(model);
    const steps = [this.first, this.second] as const;
    const plans = [this.first.plan(model, real, { concurrent: true }), this.second.plan(model, real, { concurrent: true })] as const;
    const before = model.clone();
    const outcomes = await Promise.all([plans[0].perform(), plans[1].perform()]);
    const deliveries = await settleStep(real);
    const failures: string[] = [];
    for (const way of ways) {
      const candidate = before.clone();
      const view = real.view.snapshot();
      const states = [before];
      try {
        if (way.leftBehind !== undefined) {
          states.push((steps[way.leftBehind] as CreateCommand | JoinCommand).leftBehind(candidate), candidate.clone());
        }
        const verifies = way.apply.map((index) => {
          const verify = plans[index].apply(candidate);
          states.push(candidate.clone());
          return () => verify(outcomes[index]);
        });
        for (const verify of verifies) verify();
        if (way.void !== undefined && outcomes[way.void].code !== 'ok') throw new ModelMismatch(`step ${way.void + 1} was refused`);
        checkStep(real, states, deliveries);
        await checkNodes(real, candidate);
      } catch (error) {
        if (!(error instanceof ModelMismatch)) throw error;
        real.view.restore(view);
        failures.push(`${way.name}: ${error.message}`);
        continue;
      }
      model.restore(candidate);
      return;
    }
    throw new ModelMismatch(`${this} matches no way of running one after the other:\n${failures.join('\n')}`);
  }

  private linearizations(model: Readonly<KernelModel>): Linearization[] {
    const steps = [this.first, this.second] as const;
    const ways: Linearization[] = [
      { name: 'in the order given', apply: [0, 1] },
      { name: 'in the other order', apply: [1, 0] },
    ];
    for (const [ender, other] of [[0, 1], [1, 0]] as const) {
      const ended = endedBy(steps[ender], model);
      if (ended === null || steps[other].actor(model) !== ended) continue;
      ways.push({ name: `only step ${ender + 1}, the other moot`, apply: [ender], moot: other });
      const create = steps[other];
      if (steps[ender] instanceof ResumeCommand && ((create instanceof CreateCommand && create.options.join) || create instanceof JoinCommand)) {
        ways.push({ name: `only step ${ender + 1}, the other a moot change that was taken back`, apply: [ender], moot: other, leftBehind: other });
      }
      if (steps[ender] instanceof UnregisterCommand && steps[other] instanceof ResumeCommand && steps[other].rightToken) {
        ways.push({ name: `only step ${other + 1}, the unregister void`, apply: [other], void: ender });
      }
    }
    return ways;
  }
}
