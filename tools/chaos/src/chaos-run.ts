import { countLiveGaps, countLost } from './audit.js';
import { ChaosClient } from './chaos-client.js';
import { ChaosCluster, NODE_COUNT } from './chaos-cluster.js';
import { faultSchedule } from './fault-schedule.js';
import type { FaultRoles } from './fault-schedule.js';
import { lookAtMembership, waitForConvergence } from './membership-check.js';
import { MessageLedger } from './message-ledger.js';
import type { ChaosOptions } from './options.js';
import { PhaseTally } from './phase-tally.js';
import type { ChaosReport } from './report.js';
import { SeededRandom } from './seeded-random.js';
import { Traffic } from './traffic.js';

/** How long a client's close may take at the end (a stopped or dead node may never answer it). */
const CLIENT_CLOSE_MS = 2000;
/** How often the end of the run looks whether every acknowledged message has reached its members. */
const DELIVERY_POLL_MS = 250;

/**
 * ChaosRun: one chaos run. `execute()` starts Redis and three nodes, connects the clients (each in one group, spread
 * over the nodes), sends at the fixed rate, and goes through the phases: the steady start, then each fault of
 * {@link faultSchedule}, each followed by `durationSeconds` of steady traffic. Then it stops the traffic, waits (bounded)
 * for the view to converge and for every acknowledged message to reach its members, audits, stops everything and
 * resolves with the report. It never rejects: a failure (a node that will not start, the deadline) ends the run
 * early with `aborted` set. `close()` stops everything at any time (Ctrl-C).
 */
export class ChaosRun {
  readonly #tally = new PhaseTally();
  #cluster: ChaosCluster | null = null;
  /** The cluster's start while it is under way (a `close()` then waits for it, to stop what it started). */
  #starting: Promise<ChaosCluster> | null = null;
  #clients: ChaosClient[] = [];
  #traffic: Traffic | null = null;
  #ledger: MessageLedger | null = null;
  #roles: FaultRoles | null = null;
  #closing: Promise<void> | null = null;

  constructor(
    readonly options: ChaosOptions,
    /** Progress lines. */
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Runs to the end (or the deadline, or `close()`), stops everything, and resolves with the report. */
  async execute(): Promise<ChaosReport> {
    const startedAt = Date.now();
    let aborted: string | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the deadline of ${this.options.deadlineMs / 1000} s passed`)), this.options.deadlineMs);
    });
    try {
      await Promise.race([this.#run(), deadline]);
    } catch (error) {
      aborted = error instanceof Error ? error.message : String(error);
      this.log(`aborted: ${aborted}`);
    } finally {
      clearTimeout(timer);
    }
    await this.close();
    this.#audit();
    const roles = this.#roles;
    return {
      options: this.options,
      roles: roles ? `kill: node ${roles.kill + 1}, stop: node ${roles.stop + 1}, drain: node ${roles.drain + 1}` : 'not chosen',
      phases: this.#tally.phases,
      examples: { lost: this.#lostExamples, liveGaps: this.#gapExamples },
      durationMs: Date.now() - startedAt,
      aborted,
    };
  }

  /** Stops the traffic, the clients, the nodes and Redis. Idempotent; later calls return the same promise. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const stopped = this.#traffic?.stop();
      await Promise.all(this.#clients.map((client) => bounded(client.close(), CLIENT_CLOSE_MS)));
      const cluster = this.#cluster ?? (await this.#starting?.catch(() => null));
      await cluster?.close();
      await stopped;
    })();
    return this.#closing;
  }

  /** SIGKILLs the nodes and Redis synchronously: for a process that exits without having closed the run. */
  killNow(): void {
    this.#cluster?.killNow();
  }

  #lostExamples: string[] = [];
  #gapExamples: string[] = [];

  async #run(): Promise<void> {
    const { options } = this;
    const random = new SeededRandom(options.seed);
    const [kill, stop, drain] = random.shuffle([0, 1, 2]) as [number, number, number];
    this.#roles = { kill, stop, drain };
    this.#tally.begin('start, steady traffic');
    this.log(`seed ${options.seed}: starting Redis and ${NODE_COUNT} nodes`);
    this.#starting = ChaosCluster.start({ nodeLogs: options.nodeLogs, onExit: (record) => this.#tally.at().exits.push(record) });
    const cluster = await this.#starting;
    this.#cluster = cluster;
    // Closed while the cluster started: close() has waited for the start and stops it.
    if (this.#closing) throw new Error('closed while starting');
    this.log(cluster.describe());
    const groups = Array.from({ length: options.groups }, (_, i) => `chaos-${i}`);
    const ledger = new MessageLedger(options.clients, groups, this.#tally);
    this.#ledger = ledger;
    // Client i is in group i mod G; a group's clients take the nodes in turn (in a seeded order), so every group has
    // members on every node.
    const homes = random.shuffle([0, 1, 2]);
    this.#clients = Array.from({ length: options.clients }, (_, i) => {
      const group = i % options.groups;
      const home = homes[(group + Math.floor(i / options.groups)) % NODE_COUNT] as number;
      return new ChaosClient(i, groups[group] as string, group, home, { router: cluster.router, ledger, tally: this.#tally });
    });
    this.log(`connecting ${options.clients} clients`);
    await Promise.all(this.#clients.slice(0, options.groups).map((client) => client.start(true)));
    await Promise.all(this.#clients.slice(options.groups).map((client) => client.start(false)));
    const context = { cluster, stallMs: options.stallMs, converge: (label: string) => this.#converge(label) };
    await context.converge('after the joins');
    this.#traffic = new Traffic(this.#clients, ledger, this.#tally, options.rate);
    this.#traffic.start();
    await this.#steady();
    for (const fault of faultSchedule(options.phases, this.#roles, options.stallMs)) {
      this.#tally.begin(fault.label);
      this.log(`fault: ${fault.label}`);
      await fault.inject(context);
      await this.#steady();
    }
    this.log('stopping the traffic');
    await this.#traffic.stop();
    await context.converge('at the end');
    await this.#deliveries();
  }

  /** Steady traffic for the phase duration. */
  async #steady(): Promise<void> {
    this.log(`steady traffic for ${this.options.durationSeconds} s`);
    await sleep(this.options.durationSeconds * 1000);
  }

  async #converge(label: string): Promise<void> {
    const cluster = this.#cluster;
    if (!cluster) return;
    const look = () => lookAtMembership(cluster.running(), cluster.adminToken, this.#clients);
    const check = await waitForConvergence(label, this.options.convergeMs, look);
    this.#tally.at().checks.push(check);
    this.log(check.converged ? `  converged ${label} in ${check.ms} ms` : `  NOT converged ${label}: ${check.detail.join('; ')}`);
  }

  /** Waits (bounded by `convergeMs`) until no acknowledged message is missing at a member that should have it. */
  async #deliveries(): Promise<void> {
    const ledger = this.#ledger;
    if (!ledger) return;
    const deadline = Date.now() + this.options.convergeMs;
    while (Date.now() < deadline) {
      const lost = countLost(ledger, this.#clients, this.#tally.phases.length).perPhase.reduce((a, b) => a + b, 0);
      if (lost === 0) return;
      await sleep(DELIVERY_POLL_MS);
    }
    this.log('  some acknowledged messages never arrived');
  }

  /** Writes lost messages and live gaps into the phases. */
  #audit(): void {
    const ledger = this.#ledger;
    if (!ledger) return;
    const phases = this.#tally.phases.length;
    const lost = countLost(ledger, this.#clients, phases);
    const gaps = countLiveGaps(ledger, this.#clients, phases);
    for (const [i, phase] of this.#tally.phases.entries()) {
      phase.lost = lost.perPhase[i] ?? 0;
      phase.liveGaps = gaps.perPhase[i] ?? 0;
      phase.liveGapOffsets = gaps.extraPerPhase[i] ?? 0;
    }
    this.#lostExamples = lost.examples;
    this.#gapExamples = gaps.examples;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or nothing after `ms`. */
async function bounded(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
