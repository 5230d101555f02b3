import { LatencyHistogram } from '../histogram.js';
import type { GroupsPlan, Mark, PhaseResult, SenderPick, SetupStage, StopResult } from '../ipc.js';
import { encodeMarker, nowMicros } from '../marker.js';
import { ackMemberOf, checkSplit, ownerOf } from '../ownership.js';
import type { Split } from '../ownership.js';
import type { BenchConnection } from './connection.js';
import { createConnection, forEachLimited } from './connect.js';
import { SequenceTracker } from './sequence-tracker.js';

interface Member {
  index: number;
  conn: BenchConnection;
  tracker: SequenceTracker;
}

interface Group {
  id: string;
  /** The members this driver owns, in index order, and the same by member index. */
  members: Member[];
  byIndex: (Member | undefined)[];
  /** Messages sent so far by each sender this driver owns (the next sequence number); 0 for the others. */
  sent: Int32Array;
}

/** A Mulberry32 generator: seeded, so a rerun picks the same senders. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * This driver's share of the groups (see ownership.ts) and the message loads run on it. Each delivery is checked
 * against its sender's sequence (lost, duplicated) and, while recording, its latency is sampled. One load runs at
 * a time: a closed loop (a bounded number of messages in flight; this driver's acknowledging member re-arms a
 * sender each time it receives one of that sender's messages) or a fixed rate. `stop` ends the load and reports
 * what was sent; `drain`, given what every driver sent, waits until all of it arrived here (or time is up) and
 * reports the phase.
 */
export class GroupsWorkload {
  private readonly groups: Group[] = [];
  private readonly split: Split;
  private readonly ownsSender: boolean[];
  private readonly ownedSenders: number[];
  /** One latency histogram per recording interval of the current phase; `recording` is the open one. */
  private intervals: LatencyHistogram[] = [];
  private recording: LatencyHistogram | undefined;
  private readonly random: () => number;
  private running: 'closed' | 'fixed' | undefined;
  private pick: SenderPick = 'roundrobin';
  private timer: NodeJS.Timeout | undefined;
  private roundRobin = 0;
  private deliveries = 0;
  private distinct = 0;
  private sentTotal = 0;
  private errors = 0;
  private closed = 0;
  private firstError: string | undefined;
  private lostBefore = 0;
  private duplicatesBefore = 0;

  constructor(private readonly plan: GroupsPlan) {
    this.split = { members: plan.membersPerGroup, senders: plan.sendersPerGroup, drivers: plan.driverCount };
    checkSplit(this.split);
    this.ownsSender = Array.from({ length: plan.sendersPerGroup }, (_, s) => ownerOf(s, this.split) === plan.driverIndex);
    this.ownedSenders = this.ownsSender.flatMap((owned, s) => (owned ? [s] : []));
    this.random = seededRandom(0x5eed + plan.driverIndex);
    for (let g = 0; g < plan.groups; g++) {
      this.groups.push({ id: `bench-${g}`, members: [], byIndex: [], sent: new Int32Array(plan.sendersPerGroup) });
    }
  }

  /** Runs one setup stage: open this driver's connections, create the groups (driver 0), or join them. */
  async setUp(stage: SetupStage): Promise<void> {
    const { groups, membersPerGroup, protocol, urls, driverIndex } = this.plan;
    const total = groups * membersPerGroup;
    const ack = ackMemberOf(driverIndex, this.split);
    const mine = (n: number): boolean => ownerOf(n % membersPerGroup, this.split) === driverIndex;
    switch (stage) {
      case 'connect':
        return forEachLimited(total, 100, async (n) => {
          if (!mine(n)) return;
          const group = this.groups[Math.floor(n / membersPerGroup)]!;
          const index = n % membersPerGroup;
          const conn = createConnection(protocol, urls[index % urls.length]!);
          const member: Member = { index, conn, tracker: new SequenceTracker(this.plan.sendersPerGroup) };
          group.members.push(member);
          group.byIndex[index] = member;
          conn.onProblem = (what) => this.problem(what);
          conn.onMarker = this.receiver(group, member, index === ack);
          await conn.open();
        });
      case 'create':
        return forEachLimited(groups, 50, async (g) => {
          const group = this.groups[g]!;
          await group.byIndex[0]?.conn.create(group.id);
        });
      case 'join':
        return forEachLimited(total, 100, async (n) => {
          const group = this.groups[Math.floor(n / membersPerGroup)]!;
          const index = n % membersPerGroup;
          if (index !== 0) await group.byIndex[index]?.conn.join(group.id);
        });
    }
  }

  /** Counters now; `record` starts the next latency interval, or ends recording (window end). */
  mark(record: boolean): Mark {
    this.recording = record ? new LatencyHistogram() : undefined;
    if (this.recording) this.intervals.push(this.recording);
    const cpu = process.cpuUsage();
    return { at: nowMicros(), ops: this.deliveries, sent: this.sentTotal, cpuMicros: cpu.user + cpu.system };
  }

  /** Starts a closed loop with `inflight` messages in flight; with `roundrobin` each sender keeps its own share. */
  startClosedLoop(inflight: number, pick: SenderPick): void {
    this.begin('closed', pick);
    for (let i = 0; i < inflight; i++) this.sendNext();
  }

  /** Starts sending `messagesPerSecond` messages, paced against the clock every millisecond. */
  startFixedRate(messagesPerSecond: number, pick: SenderPick): void {
    this.begin('fixed', pick);
    const start = nowMicros();
    let sent = 0;
    const tick = (): void => {
      if (this.running !== 'fixed') return;
      const due = Math.floor(((nowMicros() - start) * messagesPerSecond) / 1_000_000) - sent;
      for (let i = 0; i < due; i++) this.sendNext();
      sent += Math.max(0, due);
      this.timer = setTimeout(tick, 1);
    };
    tick();
  }

  /** Ends the load; returns what this driver's senders sent so far. */
  stop(): StopResult {
    this.running = undefined;
    if (this.timer) clearTimeout(this.timer);
    const sent: number[] = [];
    for (const group of this.groups) sent.push(...group.sent);
    return { sent };
  }

  /**
   * Waits until every message in `sent` (all drivers' senders, as `stop` lays them out) reached every member this
   * driver owns, or `drainMs` passed, and reports the phase: loss and duplicates since the previous drain.
   */
  async drain(sent: number[], drainMs: number): Promise<PhaseResult> {
    const senders = this.plan.sendersPerGroup;
    let expected = 0;
    this.groups.forEach((group, g) => {
      for (let s = 0; s < senders; s++) {
        const total = sent[g * senders + s] ?? 0;
        for (const member of group.members) if (member.index !== s) expected += total;
      }
    });
    const deadline = Date.now() + drainMs;
    while (this.distinct < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const drained = this.distinct >= expected;
    let lost = 0;
    let duplicates = 0;
    this.groups.forEach((group, g) => {
      for (const member of group.members) {
        lost += member.tracker.gaps;
        duplicates += member.tracker.duplicates;
        for (let s = 0; s < senders; s++) {
          if (s !== member.index) lost += member.tracker.missingFrom(s, sent[g * senders + s] ?? 0);
        }
      }
    });
    const result: PhaseResult = {
      lost: lost - this.lostBefore,
      duplicates: duplicates - this.duplicatesBefore,
      latency: this.intervals.map((h) => h.toSparse()),
      errors: this.errors,
      closed: this.closed,
      drained,
      ...(this.firstError === undefined ? {} : { firstError: this.firstError }),
    };
    this.lostBefore = lost;
    this.duplicatesBefore = duplicates;
    this.intervals = [];
    this.errors = 0;
    this.closed = 0;
    this.firstError = undefined;
    return result;
  }

  private begin(mode: 'closed' | 'fixed', pick: SenderPick): void {
    if (this.running) throw new Error(`a ${this.running} load is already running`);
    this.running = mode;
    this.pick = pick;
  }

  private receiver(group: Group, member: Member, acknowledges: boolean) {
    return (sender: number, seq: number, ts: number, now: number): void => {
      this.deliveries++;
      if (member.tracker.see(sender, seq)) this.distinct++;
      this.recording?.record(now - ts);
      if (acknowledges && this.running === 'closed' && this.ownsSender[sender]) {
        if (this.pick === 'roundrobin') this.send(group, sender);
        else this.sendNext();
      }
    };
  }

  private sendNext(): void {
    const owned = this.ownedSenders;
    if (this.pick === 'random') {
      const group = this.groups[Math.floor(this.random() * this.groups.length)]!;
      this.send(group, owned[Math.floor(this.random() * owned.length)]!);
    } else {
      const n = this.roundRobin++ % (this.groups.length * owned.length);
      this.send(this.groups[Math.floor(n / owned.length)]!, owned[n % owned.length]!);
    }
  }

  private send(group: Group, sender: number): void {
    const seq = group.sent[sender]!;
    group.sent[sender] = seq + 1;
    this.sentTotal++;
    group.byIndex[sender]!.conn.broadcast(group.id, encodeMarker(sender, seq, nowMicros(), this.plan.payloadBytes));
  }

  private problem(what: string): void {
    if (what.startsWith('closed') || what.startsWith('disconnected')) this.closed++;
    else this.errors++;
    this.firstError ??= what;
  }
}
