import type { ChaosClient, Membership } from './chaos-client.js';
import type { MessageLedger } from './message-ledger.js';

/** Counts per phase (index), with a few examples of what was counted. */
export interface AuditCount {
  perPhase: number[];
  /** A second figure per phase where one applies (the missing offsets of live gaps). */
  extraPerPhase: number[];
  examples: string[];
}

const EXAMPLES = 5;

/**
 * Lost messages: acknowledged broadcasts (counted in the phase they were sent) that at least one client other than
 * the sender never got although a membership of it covered the message's offset: a session of it was in the group
 * from before that offset and was still there (or had seen past it when it was lost).
 */
export function countLost(ledger: MessageLedger, clients: readonly ChaosClient[], phases: number): AuditCount {
  const result = emptyCount(phases);
  const byGroup = new Map<number, ChaosClient[]>();
  for (const client of clients) byGroup.set(client.groupIndex, [...(byGroup.get(client.groupIndex) ?? []), client]);
  for (let n = 0; n < ledger.count; n++) {
    const message = ledger.message(n);
    if (message.offset < 0) continue;
    const loser = (byGroup.get(message.group) ?? []).find(
      (client) => client.index !== message.sender && covers(client.memberships, message.offset) && !ledger.receivedBy(client.index, n),
    );
    if (!loser) continue;
    result.perPhase[message.phase] = (result.perPhase[message.phase] ?? 0) + 1;
    if (result.examples.length < EXAMPLES) {
      result.examples.push(`message ${n} (${ledger.groups[message.group]} offset ${message.offset}, from client ${message.sender}) never reached client ${loser.index}`);
    }
  }
  return result;
}

/**
 * Live gaps: holes on one connection (see `ConnectionLog`) that hold an offset the connection's own client did not
 * send; counted in the phase the hole was seen, with the number of such offsets as the extra figure. An offset whose
 * sender nobody knows (never acknowledged, never delivered to anyone) counts as missing too: the server numbered a
 * message that reached nobody, or skipped a number.
 */
export function countLiveGaps(ledger: MessageLedger, clients: readonly ChaosClient[], phases: number): AuditCount {
  const result = emptyCount(phases);
  for (const client of clients) {
    for (const [connection, log] of client.connections.entries()) {
      for (const hole of log.holes) {
        let missing = 0;
        for (let offset = hole.from; offset <= hole.to; offset++) if (ledger.senderAt(hole.group, offset) !== client.index) missing++;
        if (missing === 0) continue;
        result.perPhase[hole.phase] = (result.perPhase[hole.phase] ?? 0) + 1;
        result.extraPerPhase[hole.phase] = (result.extraPerPhase[hole.phase] ?? 0) + missing;
        if (result.examples.length < EXAMPLES) {
          result.examples.push(`client ${client.index}, connection ${connection + 1} (node ${log.node + 1}): ${hole.group} skipped ${hole.from}..${hole.to}`);
        }
      }
    }
  }
  return result;
}

/** Whether a membership of the client covers `offset`. */
function covers(memberships: readonly Membership[], offset: number): boolean {
  return memberships.some((m) => offset > m.base && (m.end === null || offset <= m.end));
}

function emptyCount(phases: number): AuditCount {
  return { perPhase: new Array<number>(phases).fill(0), extraPerPhase: new Array<number>(phases).fill(0), examples: [] };
}
