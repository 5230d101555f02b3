import type { AsyncCommand } from 'fast-check';
import type { ClientView } from './client-view.js';
import { checkInvariants, ModelMismatch, outcomeOf } from './invariants.js';
import type { Outcome } from './invariants.js';
import type { KernelModel, NodeName } from './kernel-model.js';
import type { SeenDelivery, TwoNodeCluster } from './two-node-cluster.js';
import { drainMicrotasks } from './virtual-clock.js';

/** The real side of a run: the two nodes and what their clients saw. */
export interface RealSide {
  cluster: TwoNodeCluster;
  view: ClientView;
}

/** Checks a real outcome against what the model expects: throws a `ModelMismatch`, or records what the client saw. */
export type Verify = (outcome: Outcome<unknown>) => void;

/**
 * A step with its parameters fixed (the node it goes to, tokens, offsets): `apply` makes the change on a model and
 * returns the check of the real outcome against it; `perform` runs it on the real nodes. Apart, so that two steps
 * run at once can be checked against both orders.
 */
export interface Plan {
  apply(model: KernelModel): Verify;
  perform(): Promise<Outcome<unknown>>;
}

/** A `Plan` from a typed operation and its typed check (the one place the outcome's type is erased). */
export function plan<T>(perform: () => Promise<T>, apply: (model: KernelModel) => (outcome: Outcome<T>) => void): Plan {
  return { apply: apply as (model: KernelModel) => Verify, perform: () => outcomeOf(perform()) };
}

/** How a step runs: alone (every check applies) or at once with another (checks that need it alone are skipped). */
export interface StepContext {
  concurrent: boolean;
}

/**
 * KernelCommand: one step of a run. `plan` fixes its parameters from the model as the client sees it; `run` applies
 * it to the model, runs it on the real nodes, compares the answers, then checks the deliveries it caused (`checkStep`)
 * and every invariant on both nodes (`checkNodes`). `toString` names the step in a counterexample.
 */
export abstract class KernelCommand implements AsyncCommand<KernelModel, RealSide> {
  abstract check(model: Readonly<KernelModel>): boolean;
  abstract toString(): string;
  /** Fixes the step's parameters. May draw tokens from `model` (nothing else changes). */
  abstract plan(model: KernelModel, real: RealSide, context: StepContext): Plan;

  /** The session the step acts for (its client), if any. */
  actor(_model: Readonly<KernelModel>): string | null {
    return null;
  }

  async run(model: KernelModel, real: RealSide): Promise<void> {
    const planned = this.plan(model, real, { concurrent: false });
    const before = model.clone();
    const verify = planned.apply(model);
    verify(await planned.perform());
    checkStep(real, [before, model], await settleStep(real));
    await checkNodes(real, model);
  }
}

/** Lets bus messages (`taken`) and fire-and-forget saves finish; returns the deliveries of the step. */
export async function settleStep(real: RealSide): Promise<SeenDelivery[]> {
  await drainMicrotasks();
  return real.cluster.takeDeliveries();
}

/**
 * Checks a step's deliveries against the model's `states` during it (before, in between, after) and forgets what
 * clients no longer follow; throws a `ModelMismatch` on the first problem the client view holds.
 */
export function checkStep(real: RealSide, states: readonly KernelModel[], deliveries: SeenDelivery[]): void {
  real.view.observe(deliveries, states);
  const model = states[states.length - 1] as KernelModel;
  real.view.prune((session, group) => {
    const held = model.sessions.get(session);
    return held && (held.groups.has(group) || held.suspended?.has(group));
  });
  if (real.view.problems.length > 0) throw new ModelMismatch(real.view.problems.join('\n'));
}

/** Checks both nodes against the model (see `checkInvariants`). */
export function checkNodes(real: RealSide, model: KernelModel): Promise<void> {
  return checkInvariants(real.cluster, model, real.view);
}

/** The node a session's operation goes to: `via` when given, else the node holding the session (A when none). */
export function nodeFor(model: Readonly<KernelModel>, session: string, via: NodeName | null): NodeName {
  return via ?? model.sessions.get(session)?.node ?? 'A';
}

/** False when `session` is suspended on `node`: a client without a connection sends nothing there. */
export function canSendFrom(model: Readonly<KernelModel>, session: string, node: NodeName): boolean {
  const held = model.sessions.get(session);
  return !(held?.node === node && held.phase === 'suspended');
}

/** `@B` when the operation goes to a chosen node, nothing when it goes to the session's own. */
export function viaText(via: NodeName | null): string {
  return via ? `@${via}` : '';
}
