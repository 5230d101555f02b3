// Model-based property tests (fast-check) of the kernel: random sequences of operations on two NodeManagers sharing one
// InMemoryStore (`TwoNodeCluster`, every timer on a `VirtualClock`), checked after each step against `KernelModel`:
// each group's members (and their nodes), latest offset and lifecycle state on both nodes, each session's node, groups
// and store record, the catalog code of every refusal, and what every client saw (`ClientView`: offsets strictly +1
// per group, no gap, no repeat). The second property also runs two operations at once (`ConcurrentCommand`), which
// must match one of the ways of running them one after the other (see `concurrent-command.ts`); every pair is run
// (the defects it found are fixed, each with its regression test beside this file).
//
// A failure prints the seed, the path and the shrunk steps; the error ends with the environment that replays it
// (`FC_SEED=… FC_PATH=… FC_REPLAY_PATH=… npx vitest run test/properties/two-nodes-model.test.ts`). `FC_NUM_RUNS=<n>`
// runs more cases than the suite's 150.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ClientView } from './client-view.js';
import type { KernelCommand, RealSide } from './command-step.js';
import { ConcurrentCommand } from './concurrent-command.js';
import { AdvanceCommand, ByMemberCommand, CreateCommand, DiscardCommand, JoinCommand, LeaveCommand, PublishCommand } from './group-commands.js';
import { agree, GROUP_IDS, SESSION_IDS } from './invariants.js';
import { KernelModel } from './kernel-model.js';
import type { NodeName } from './kernel-model.js';
import { assertProperty, replayPath, runCount } from './run-parameters.js';
import { RegisterCommand, ResumeCommand, SuspendCommand, UnregisterCommand } from './session-commands.js';
import { TwoNodeCluster } from './two-node-cluster.js';

const session = fc.constantFrom(...SESSION_IDS);
const group = fc.constantFrom(...GROUP_IDS);
const node = fc.constantFrom<NodeName>('A', 'B');
/** Mostly the session's own node (null); sometimes a chosen one, where the session may not be. */
const via = fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: node });
/** Steps of time around the timings (grace 1000, resume window 1500, unwatch delay 2000, ttls 100 and 3000). */
const step = fc.constantFrom(1, 99, 100, 500, 999, 1000, 1500, 2000, 3000);

const createOptions = fc.record({
  join: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  allowEmpty: fc.boolean(),
  maxMembers: fc.constantFrom(null, 1, 2),
  ttlMs: fc.constantFrom(null, 100, 3000),
});

/** `count` copies of an arbitrary: `fc.commands` picks among its arbitraries evenly, so copies weigh a kind of step. */
function times<T>(count: number, arbitrary: fc.Arbitrary<T>): Array<fc.Arbitrary<T>> {
  return Array.from({ length: count }, () => arbitrary);
}

/** Kinds of `ByMemberCommand`: mostly broadcasts. */
const memberStep = fc.constantFrom<'broadcast' | 'broadcast self' | 'leave'>('broadcast', 'broadcast', 'broadcast self', 'leave');

/**
 * Every kind of operation, weighed so that sessions exist, groups fill up and messages flow, while refusals (wrong
 * node, missing group, not a member, full, exists) and the destructive steps (discard, unregister) still come often.
 */
const operations: Array<fc.Arbitrary<KernelCommand>> = [
  ...times(3, fc.tuple(session, node).map(([s, n]) => new RegisterCommand(s, n))),
  session.map((s) => new UnregisterCommand(s)),
  session.map((s) => new SuspendCommand(s)),
  ...times(2, fc.tuple(session, node, fc.boolean()).map(([s, n, right]) => new ResumeCommand(s, n, right))),
  ...times(3, fc.tuple(session, via, group, createOptions).map(([s, v, g, o]) => new CreateCommand(s, v, g, o))),
  ...times(4, fc.tuple(session, via, group).map(([s, v, g]) => new JoinCommand(s, v, g))),
  fc.tuple(session, via, group).map(([s, v, g]) => new LeaveCommand(s, v, g)),
  ...times(2, fc.tuple(session, via, group, fc.boolean()).map(([s, v, g, self]) => new PublishCommand(s, v, g, self))),
  ...times(4, fc.tuple(group, fc.nat(3), memberStep).map(([g, i, kind]) => new ByMemberCommand(g, i, kind))),
  fc.tuple(node, group).map(([n, g]) => new PublishCommand(null, n, g, true)),
  fc.tuple(node, group).map(([n, g]) => new DiscardCommand(n, g)),
];

/** Time passes (graces, resume windows, the unwatch delay). */
const advance = step.map((ms) => new AdvanceCommand(ms));

/** Two operations at once. */
const together = fc.tuple(fc.oneof(...operations), fc.oneof(...operations)).map(([first, second]) => new ConcurrentCommand(first, second));

/**
 * Every run starts with every session registered (each on a node of its own draw) and every group id created once
 * (by a session and with options of its own draw, so some creates are refused); later steps end and add both.
 */
const prelude = fc
  .tuple(
    fc.tuple(...SESSION_IDS.map(() => node)),
    fc.tuple(...GROUP_IDS.map(() => fc.tuple(session, createOptions))),
  )
  .map(([nodes, creates]) => [
    ...nodes.map((n, index) => new RegisterCommand(SESSION_IDS[index] ?? 's1', n)),
    ...creates.map(([s, options], index) => new CreateCommand(s, null, GROUP_IDS[index] ?? 'g1', options)),
  ]);

/** Cases per property in a run of the suite: a few seconds each. */
const RUNS = 150;

/** Runs `steps` after the prelude on two fresh nodes, against a fresh model; checks that closing leaves no timer. */
async function runOnTwoNodes(start: readonly KernelCommand[], steps: Iterable<fc.AsyncCommand<KernelModel, RealSide>>): Promise<void> {
  const cluster = await TwoNodeCluster.start();
  const real: RealSide = { cluster, view: new ClientView() };
  try {
    await fc.asyncModelRun(() => ({ model: new KernelModel(cluster.clock.now()), real }), [...start, ...steps]);
  } finally {
    await cluster.close();
  }
  // Closing undoes every timer: nothing is left on the virtual clock.
  agree('virtual timers left after both nodes closed', cluster.clock.pending, 0);
}

describe('two kernels on one store against a model (fast-check)', () => {
  // About 30 ms a case; more cases (FC_NUM_RUNS) get more time.
  const timeout = Math.max(20_000, runCount(RUNS) * 100);

  it('one step at a time: members, offsets, lifecycle, refusals and every client stream agree with the model', { timeout }, async () => {
    const steps = fc.commands([...operations, advance], { maxCommands: 60, size: 'max', ...replayPath() });
    await assertProperty(fc.asyncProperty(prelude, steps, runOnTwoNodes), RUNS);
  });

  it('two operations at once behave as one after the other, in one order or the other', { timeout }, async () => {
    const kinds = [...operations, ...times(operations.length, together), advance];
    const steps = fc.commands(kinds, { maxCommands: 60, size: 'max', ...replayPath() });
    await assertProperty(fc.asyncProperty(prelude, steps, runOnTwoNodes), RUNS);
  });
});
