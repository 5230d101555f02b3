import { RoomsError } from '../../src/index.js';
import type { NodeManager } from '../../src/index.js';
import type { ClientView } from './client-view.js';
import type { KernelModel, NodeName } from './kernel-model.js';
import { NODE_NAMES, stateOf } from './kernel-model.js';
import type { TwoNodeCluster } from './two-node-cluster.js';

/** The group ids and session ids property runs draw from: few, so that operations collide often. */
export const GROUP_IDS = ['g1', 'g2', 'g3'] as const;
export const SESSION_IDS = ['s1', 's2', 's3', 's4'] as const;

/** A property run's failure: a finding, with the model and the real answer in its message. */
export class ModelMismatch extends Error {
  override readonly name = 'ModelMismatch';
}

/** Throws a `ModelMismatch` saying `what` unless `actual` and `expected` are the same JSON. */
export function agree(what: string, actual: unknown, expected: unknown): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new ModelMismatch(`${what}: got ${a}, the model says ${e}`);
}

/** How an operation ended: its value, or the catalog code it was refused with. */
export type Outcome<T> = { code: 'ok'; value: T } | { code: string };

/** The catalog code an operation was refused with, or 'ok'; anything but a `RoomsError` is a finding. */
export async function outcomeOf<T>(operation: Promise<T>): Promise<Outcome<T>> {
  try {
    return { code: 'ok', value: await operation };
  } catch (error) {
    if (error instanceof RoomsError) return { code: error.code };
    throw new ModelMismatch(`the operation threw something else than a RoomsError: ${String(error)}`);
  }
}

async function checkGroups(name: NodeName, node: NodeManager, model: KernelModel): Promise<void> {
  for (const id of GROUP_IDS) {
    const group = model.groups.get(id);
    const members = await outcomeOf(node.members(id));
    const info = await outcomeOf(node.groupInfo(id));
    if (!group) {
      agree(`${name}: members(${id}) of a group that does not exist`, members.code, 'GROUP_NOT_FOUND');
      agree(`${name}: groupInfo(${id}) of a group that does not exist`, info.code, 'GROUP_NOT_FOUND');
      continue;
    }
    const expected = [...group.members].map(([session, holder]) => `${session}@${holder}`).sort();
    const got = 'value' in members ? members.value.map((member) => `${member.id}@${member.node}`).sort() : members.code;
    agree(`${name}: members(${id})`, got, expected);
    agree(`${name}: groupInfo(${id}) state and size`, 'value' in info ? [info.value.state, info.value.size] : info.code, [stateOf(group), group.members.size]);
    const history = await node.history(id, Math.max(0, group.offset - 1));
    agree(`${name}: latest offset of ${id}`, history.messages.at(-1)?.offset ?? 0, group.offset);
  }
}

function checkSessions(name: NodeName, node: NodeManager, model: KernelModel, view: ClientView): void {
  for (const id of SESSION_IDS) {
    const session = model.sessions.get(id);
    const heldHere = session?.node === name;
    agree(`${name}: hasSession(${id})`, node.hasSession(id), heldHere);
    if (!session || !heldHere) continue;
    agree(`${name}: groups of ${id}`, node.groupsOf(id).groups.sort(), [...session.groups].sort());
    if (session.phase !== 'connected') continue;
    for (const group of session.groups) {
      // A connected member has every message of its groups: nothing missing at the end of the stream either.
      agree(`${name}: last offset ${id} has of ${group}`, view.lastOffset(id, group), model.groups.get(group)?.offset);
    }
  }
}

/** The session records in the store: one per session of the model, on its node, with its token, expiring iff suspended. */
function checkRecords(cluster: TwoNodeCluster, model: KernelModel): void {
  for (const id of SESSION_IDS) {
    const session = model.sessions.get(id);
    const record = cluster.store.sessions.read('A', id);
    const got = record && { node: record.node, token: record.tokenHash, suspended: record.expiresAt !== null };
    agree(`the store's record of ${id}`, got, session ? { node: session.node, token: session.token, suspended: session.phase === 'suspended' } : null);
  }
}

/**
 * Checks both nodes against the model after a command: each group's members (and their nodes), state, size and
 * latest offset as each node answers them, each session's node and groups (and its record in the store: node, token,
 * whether it is suspended), and that every connected session has every message of its groups; then that the client
 * view and the kernels' logs hold no finding.
 */
export async function checkInvariants(cluster: TwoNodeCluster, model: KernelModel, view: ClientView): Promise<void> {
  if (view.problems.length > 0) throw new ModelMismatch(view.problems.join('\n'));
  for (const name of NODE_NAMES) {
    await checkGroups(name, cluster.nodes[name], model);
    checkSessions(name, cluster.nodes[name], model, view);
  }
  checkRecords(cluster, model);
  const problem = cluster.problems[0];
  if (problem) throw new ModelMismatch(`${problem.node} logged ${problem.level} "${problem.msg}": ${JSON.stringify(problem.obj, errorFields)}`);
  agree('virtual time', cluster.clock.now(), model.now);
}

function errorFields(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}
