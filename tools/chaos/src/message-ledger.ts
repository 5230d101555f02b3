import type { PhaseTally } from './phase-tally.js';

/** A broadcast's payload: its number in the run (unique) and the index of the client that sent it. */
export interface ChaosPayload {
  n: number;
  c: number;
}

/** The code counted (as an error of the phase) when a client is given a message that is not one of the run's. */
export const FOREIGN_MESSAGE = 'FOREIGN_MESSAGE';

/**
 * MessageLedger: every broadcast of a run, by number: its group, sender, phase and, once acknowledged, its offset;
 * which client got which message how often; and, per group, who sent each offset (from the acks and from the wire),
 * which tells a client's own broadcast from a gap. Counts sent, acked, delivered, duplicated and echoed in the tally.
 * Memory: a few numbers per message and one byte per message and client.
 */
export class MessageLedger {
  readonly #group: number[] = [];
  readonly #sender: number[] = [];
  readonly #phase: number[] = [];
  /** The acknowledged offset, or -1. */
  readonly #offset: number[] = [];
  /** Per client, how often it was given message n (saturating at 255). */
  readonly #received: Uint8Array[];
  /** Per group, the sender of each offset. */
  readonly #senderAt: Map<number, number>[];
  readonly #groupIndex = new Map<string, number>();
  /** Broadcasts the server answered with an error (code by number). */
  readonly #refused = new Map<number, string>();
  /** Refused broadcasts already counted as delivered anyway. */
  readonly #refusedSeen = new Set<number>();

  constructor(
    clients: number,
    /** The group ids, by index. */
    readonly groups: readonly string[],
    private readonly tally: PhaseTally,
  ) {
    this.#received = Array.from({ length: clients }, () => new Uint8Array(1024));
    this.#senderAt = groups.map(() => new Map());
    for (const [i, group] of groups.entries()) this.#groupIndex.set(group, i);
  }

  /** How many broadcasts were registered. */
  get count(): number {
    return this.#group.length;
  }

  /** Registers a broadcast of client `sender` to group `group` (index), counted as sent now; returns its payload. */
  register(sender: number, group: number): ChaosPayload {
    const n = this.#group.length;
    this.#group.push(group);
    this.#sender.push(sender);
    this.#phase.push(this.tally.index);
    this.#offset.push(-1);
    this.tally.at().sent++;
    return { n, c: sender };
  }

  /** Records the ok reply of broadcast `n`. */
  acked(n: number, offset: number): void {
    this.#offset[n] = offset;
    this.#senderAt[this.#group[n] as number]?.set(offset, this.#sender[n] as number);
    this.tally.at(this.#phase[n]).acked++;
  }

  /**
   * Records that the server answered broadcast `n` with the error `code` (not a client-side failure such as
   * `DISCONNECTED`, whose outcome is unknown): it must not reach anyone.
   */
  refused(n: number, code: string): void {
    this.#refused.set(n, code);
  }

  /** Records who sent `offset` of `group`, from a `message` seen on the wire (counted as on the wire now). */
  wireMessage(group: string, offset: number, data: unknown): void {
    this.tally.at().onWire++;
    const payload = payloadOf(data, this.count);
    const index = this.#groupIndex.get(group);
    if (payload && index !== undefined && !this.#senderAt[index]?.has(offset)) this.#senderAt[index]?.set(offset, payload.c);
  }

  /**
   * Records a `message` the SDK delivered to client `client` (`where`: the message's group and offset, for the
   * examples of echoes and duplicates, noted in the phase of the send).
   */
  delivered(client: number, data: unknown, where?: { group: string; offset: number }): void {
    const payload = payloadOf(data, this.count);
    if (!payload) {
      this.tally.error(FOREIGN_MESSAGE);
      return;
    }
    const sentIn = this.#phase[payload.n] as number;
    const phase = this.tally.at(sentIn);
    phase.delivered++;
    const times = this.#bump(client, payload.n);
    const at = where ? ` as ${where.group} offset ${where.offset}` : '';
    const refusal = this.#refused.get(payload.n);
    if (refusal !== undefined && !this.#refusedSeen.has(payload.n)) {
      this.#refusedSeen.add(payload.n);
      phase.refusedDelivered++;
      this.tally.note('refused yet delivered', `broadcast ${payload.n} of client ${payload.c}, answered ${refusal}, reached client ${client}${at}`, sentIn);
    }
    const acked = this.#offset[payload.n] as number;
    const request = acked >= 0 ? `acknowledged with offset ${acked}` : 'not acknowledged';
    if (payload.c === client) {
      phase.echoed++;
      this.tally.note('echo', `client ${client} was given its own broadcast ${payload.n}${at} (its request: ${request})`, sentIn);
    } else if (times > 1) {
      phase.duplicated++;
      this.tally.note('dup', `client ${client} was given broadcast ${payload.n} of client ${payload.c} (delivery ${times})${at}`, sentIn);
    }
  }

  /** Group (index), sender, phase and acknowledged offset (-1: none) of broadcast `n`. */
  message(n: number): { group: number; sender: number; phase: number; offset: number } {
    return { group: this.#group[n] as number, sender: this.#sender[n] as number, phase: this.#phase[n] as number, offset: this.#offset[n] as number };
  }

  /** Whether client `client` was given broadcast `n`. */
  receivedBy(client: number, n: number): boolean {
    return (this.#received[client]?.[n] ?? 0) > 0;
  }

  /** The client that sent `offset` of `group`, when anyone knows. */
  senderAt(group: string, offset: number): number | undefined {
    const index = this.#groupIndex.get(group);
    return index === undefined ? undefined : this.#senderAt[index]?.get(offset);
  }

  #bump(client: number, n: number): number {
    let counts = this.#received[client] as Uint8Array;
    if (n >= counts.length) {
      const grown = new Uint8Array(Math.max(n + 1, counts.length * 2));
      grown.set(counts);
      this.#received[client] = counts = grown;
    }
    if (counts[n] !== 255) counts[n] = (counts[n] as number) + 1;
    return counts[n] as number;
  }
}

/** The payload of a run's broadcast, or null when `data` is not one (of the `count` registered so far). */
function payloadOf(data: unknown, count: number): ChaosPayload | null {
  if (typeof data !== 'object' || data === null) return null;
  const { n, c } = data as Record<string, unknown>;
  if (typeof n !== 'number' || typeof c !== 'number' || !Number.isInteger(n) || n < 0 || n >= count) return null;
  return { n, c };
}
