import type { ProtocolClient, ServerMessage } from '@rooms-kit/testing';
import type { Cluster } from './cluster-harness.js';

/** How long a broadcast's reply may take: a sender on a stalled node gets its replies only after the stall. */
const REPLY_WAIT_MS = 60_000;

/** One broadcast's outcome, as its sender saw it. */
export interface BroadcastReply {
  group: string;
  /** Index of the node the sender is connected to. */
  node: number;
  /** When the reply arrived (`Date.now()`). */
  at: number;
  /** The offset of an ok reply. */
  offset?: number;
  /** The error code of an error reply (or `NO_REPLY` when none came in time). */
  code?: string;
}

/** One connection taking part: every member sends with `self: true`, so each must see every offset of its groups. */
export interface Participant {
  label: string;
  node: number;
  client: ProtocolClient;
  groups: string[];
}

/**
 * LiveTraffic: groups spread over the nodes of a cluster, one sender per group on every node, broadcasting with
 * `self: true` at a steady pace, and the checks of docs/protocol.md's offset rule on every live connection: each
 * member sees each of its groups' offsets once, in order, +1 each, from its join on. The pace is the load of the
 * fault scenarios, not a wait: every assertion waits for its condition with a bound.
 */
export class LiveTraffic {
  readonly replies: BroadcastReply[] = [];
  private readonly participants: Participant[] = [];
  private readonly pending = new Set<Promise<void>>();
  /** The senders' timers: first a timeout (the spread), then an interval. */
  private timers: Array<ReturnType<typeof setTimeout>> = [];

  private constructor(
    /** The ids of the groups, in creation order. */
    readonly groups: readonly string[],
  ) {}

  /** Creates `groupCount` groups and joins one sender per group on every node, before any message. */
  static async setup(cluster: Cluster, groupCount: number): Promise<LiveTraffic> {
    const groups = Array.from({ length: groupCount }, (_, i) => `live-${i}`);
    const traffic = new LiveTraffic(groups);
    for (const [i, group] of groups.entries()) {
      for (const node of cluster.nodes.keys()) {
        const client = await cluster.connect(node);
        if (node === i % cluster.nodes.length) await client.ok('create', { group });
        traffic.participants.push({ label: `sender ${group} on node ${node}`, node, client, groups: [group] });
      }
    }
    // Senders of groups created on a later node join once every group exists.
    for (const participant of traffic.participants) {
      const group = participant.groups[0] as string;
      const reply = await participant.client.request('join', { group });
      if (reply.ok !== true) throw new Error(`${participant.label} could not join: ${JSON.stringify(reply)}`);
    }
    return traffic;
  }

  /** Adds a connection on `node` that joins every group and only receives. */
  async addReceiver(cluster: Cluster, node: number): Promise<Participant> {
    const client = await cluster.connect(node);
    for (const group of this.groups) await client.ok('join', { group });
    const receiver: Participant = { label: `receiver ${this.participants.length} on node ${node}`, node, client, groups: [...this.groups] };
    this.participants.push(receiver);
    return receiver;
  }

  /** Every connection taking part. */
  get members(): readonly Participant[] {
    return this.participants;
  }

  /**
   * Starts every sender: one broadcast each `intervalMs`, its reply recorded in `replies`. The senders are spread
   * evenly over the interval, so that some broadcast is on its way every `intervalMs / senders` ms.
   */
  start(intervalMs: number): void {
    const senders = this.participants.filter((p) => p.label.startsWith('sender'));
    for (const [i, sender] of senders.entries()) {
      const group = sender.groups[0] as string;
      let seq = 0;
      const send = (): void => {
        const sent = sender.client.request('broadcast', { group, data: `${sender.label} #${++seq}`, self: true }, REPLY_WAIT_MS).then(
          (reply) => this.record(group, sender.node, reply),
          () => void this.replies.push({ group, node: sender.node, at: Date.now(), code: 'NO_REPLY' }),
        );
        this.pending.add(sent);
        void sent.finally(() => this.pending.delete(sent));
      };
      this.timers.push(
        setTimeout(() => {
          send();
          this.timers.push(setInterval(send, intervalMs));
        }, (i * intervalMs) / senders.length),
      );
    }
  }

  /** Stops the senders and resolves once every broadcast sent has its reply (or gave up waiting for it). */
  async stop(): Promise<void> {
    // Clears a timeout and an interval alike.
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** The highest offset a sender was given in `group` (0 before the first). */
  lastOffset(group: string): number {
    let last = 0;
    for (const reply of this.replies) if (reply.group === group && reply.offset !== undefined && reply.offset > last) last = reply.offset;
    return last;
  }

  /** The number of message events each member got so far, summed (progress of the traffic). */
  received(member: Participant): number {
    return member.client.messages.filter((m) => m.ev === 'message').length;
  }

  /** Resolves once every member got, for each of its groups, a message at or past `offsets(group)`. */
  async reached(offsets: (group: string) => number, timeoutMs: number): Promise<void> {
    await Promise.all(
      this.participants.flatMap((member) =>
        member.groups.map((group) => {
          const target = offsets(group);
          if (target === 0) return Promise.resolve();
          return member.client.waitFor((m) => m.ev === 'message' && m.group === group && Number(m.offset) >= target, `${member.label}: ${group} offset ${target}`, timeoutMs);
        }),
      ),
    );
  }

  /**
   * Every breach of the offset rule on every live connection: a member whose connection closed, or whose messages of
   * a group are not exactly 1, 2, … up to the group's last offset (none skipped, repeated or out of order).
   */
  audit(): string[] {
    const problems: string[] = [];
    for (const member of this.participants) {
      if (member.client.closeInfo) problems.push(`${member.label}: connection closed ${JSON.stringify(member.client.closeInfo)}`);
      for (const group of member.groups) {
        const offsets = member.client.messages.filter((m) => m.ev === 'message' && m.group === group).map((m) => Number(m.offset));
        const breach = firstBreach(offsets, this.lastOffset(group));
        if (breach) problems.push(`${member.label}: ${group}: ${breach}`);
      }
    }
    return problems;
  }

  /** The replies other than ok and `allowed` codes, described. */
  unexpectedReplies(allowed: readonly string[]): string[] {
    return this.replies.filter((r) => r.code !== undefined && !allowed.includes(r.code)).map((r) => `${r.group} on node ${r.node}: ${r.code}`);
  }

  private record(group: string, node: number, reply: ServerMessage): void {
    const at = Date.now();
    if (reply.ok === true) this.replies.push({ group, node, at, offset: Number(reply.offset) });
    else this.replies.push({ group, node, at, code: String((reply.error as { code?: unknown } | undefined)?.code) });
  }
}

/** The first place where `offsets` is not 1, 2, … `last`, described; null when it is exactly that. */
function firstBreach(offsets: readonly number[], last: number): string | null {
  for (const [i, offset] of offsets.entries()) {
    const expected = i + 1;
    if (offset !== expected) return `expected offset ${expected}, got ${offset} (after ${offsets.slice(Math.max(0, i - 3), i).join(', ')})`;
  }
  if (offsets.length !== last) return `got offsets up to ${offsets.length}, the group reached ${last}`;
  return null;
}
