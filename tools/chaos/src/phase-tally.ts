/** One wait for the view to converge: members listed by every node in rotation against the clients' own view. */
export interface MembershipCheck {
  /** What it followed ("after the restart"). */
  label: string;
  converged: boolean;
  /** How long the wait took (the bound when it did not converge). */
  ms: number;
  /** Member ids some node listed that no client is (in that group). */
  ghosts: number;
  /** Clients in a group (by their own view) that some node did not list, or that never got back into their group. */
  missing: number;
  /** What was wrong at the last look, when it did not converge (a few lines). */
  detail: string[];
}

/** One drop of a client's connection and how it ended. */
export interface ResumeRecord {
  /** The client (its index in the run). */
  client: number;
  /** From the drop to the next welcome, ms. */
  ms: number;
  /** Whether the session survived (`resumed:true`); false: a new session, the group joined again. */
  resumed: boolean;
}

/** A node or Redis process that ended. */
export interface ExitRecord {
  /** "node 2", "redis". */
  name: string;
  /** "SIGKILL", "code 0", … */
  how: string;
  /** False when nobody asked for it: a crash, a drain that did not end with code 0, or one that had to be killed. */
  expected: boolean;
}

/** The figures of one phase: the steady start, or one fault with its settling and the steady traffic after it. */
export interface PhaseFigures {
  label: string;
  /** When the phase (its fault) began, `Date.now()`. */
  startedAt: number;
  /** Broadcasts asked for (from a client that was open and in its group). */
  sent: number;
  /** Broadcasts answered ok (with an offset). */
  acked: number;
  /** `message` events the SDK delivered to the clients. */
  delivered: number;
  /**
   * `message` events seen on the wire in this phase, repeats included: at least `delivered` over a run, else the
   * tap the live gap check relies on saw less than the SDK (a check of the tool itself).
   */
  onWire: number;
  /** Acknowledged messages that a member which was in the group the whole time never got (after settling). */
  lost: number;
  /**
   * Broadcasts the server answered with an error (`UNAVAILABLE`, …) that reached a member all the same: the sender
   * was told it failed (a retry would send it twice) and, without `self`, its SDK never learns the offset.
   */
  refusedDelivered: number;
  /** Deliveries of a message a client had already been given. */
  duplicated: number;
  /** Deliveries of a client's own broadcast (sent without `self`) back to it. */
  echoed: number;
  /** Holes on a live connection that are not the client's own broadcasts (see `ConnectionLog`). */
  liveGaps: number;
  /** The offsets missing in those holes. */
  liveGapOffsets: number;
  /** Offsets the SDK reported lost for good (`GAP` errors). */
  sdkGaps: number;
  /**
   * `message` events on the wire that the client already had (at or below the SDK's last offset of the group when the
   * frame arrived): the repeats of resume replays and `join since` recoveries, which the SDK drops. Not a due zero
   * (the protocol allows repeats), but a resume that replays everything since the join shows here.
   */
  replayed: number;
  /** Failed requests, by code, in the phase in which they failed. */
  errors: Record<string, number>;
  /**
   * The window of the phase's `UNAVAILABLE` refusals, ms after the phase began: from the send of the earliest request
   * refused so in it (`first`; 0 when it was sent before the phase) to the latest refusal (`last`), and how many. A
   * request held by a stopped node and refused when it wakes counts from when it was sent: the window is how long
   * clients could not get through, not when they heard.
   */
  unavailable: { first: number; last: number; count: number } | null;
  resumes: ResumeRecord[];
  /** Connections of the clients that ended, by close code (`1001`, `1006`, …), counted in the phase they ended. */
  closes: Record<string, number>;
  /**
   * Membership events the clients got about the others (`joined`, `rejoined`, `left node-down`, …), counted in the
   * phase they arrived: evidence of how the faults looked to the members (not a due zero).
   */
  memberEvents: Record<string, number>;
  exits: ExitRecord[];
  checks: MembershipCheck[];
  /** A few described examples per kind (`GAP`, `UNAVAILABLE`, `left node-down`, …), the evidence of the figures. */
  notes: Record<string, string[]>;
}

/** How many examples {@link PhaseTally.note} keeps per kind and phase. */
export const NOTES_PER_KIND = 3;

/**
 * PhaseTally: the figures of every phase of a run, and which one is current. Events are counted in the phase in which
 * they happen (failed requests, live gaps, exits), except what belongs to a message (acked, delivered, lost,
 * duplicated, echoed: the phase in which it was sent) and a resume (the phase of the drop).
 */
export class PhaseTally {
  readonly phases: PhaseFigures[] = [];

  /** Starts a new phase, now current; returns its index. */
  begin(label: string): number {
    this.phases.push({
      label,
      startedAt: Date.now(),
      sent: 0,
      acked: 0,
      delivered: 0,
      onWire: 0,
      lost: 0,
      refusedDelivered: 0,
      duplicated: 0,
      echoed: 0,
      liveGaps: 0,
      liveGapOffsets: 0,
      sdkGaps: 0,
      replayed: 0,
      errors: {},
      unavailable: null,
      resumes: [],
      closes: {},
      memberEvents: {},
      exits: [],
      checks: [],
      notes: {},
    });
    return this.phases.length - 1;
  }

  /** The index of the current phase (0 before any began: the start counts as the first phase). */
  get index(): number {
    return Math.max(0, this.phases.length - 1);
  }

  /** The figures of phase `index` (the current one by default). */
  at(index = this.index): PhaseFigures {
    const phase = this.phases[index];
    if (!phase) throw new Error(`no phase ${index}: call begin() first`);
    return phase;
  }

  /** Adds one to `key` of the current phase's `record` (`closes` or `memberEvents`). */
  count(record: 'closes' | 'memberEvents', key: string): void {
    const counts = this.at()[record];
    counts[key] = (counts[key] ?? 0) + 1;
  }

  /** Keeps `text` as an example of `kind` in phase `phase` (the current one by default), up to {@link NOTES_PER_KIND}. */
  note(kind: string, text: string, phase = this.index): void {
    const notes = (this.at(phase).notes[kind] ??= []);
    if (notes.length < NOTES_PER_KIND) notes.push(`${new Date().toISOString().slice(11, 23)} ${text}`);
  }

  /**
   * Counts a failed request (or an `error` event) with `code` in the current phase: the one in which it failed, i.e.
   * whose fault it met. An `UNAVAILABLE` also widens that phase's window, from `sentAt` (`Date.now()` when the
   * request was sent; now by default; the phase's start when it was sent before it) to now.
   */
  error(code: string, sentAt?: number): void {
    const phase = this.at();
    phase.errors[code] = (phase.errors[code] ?? 0) + 1;
    if (code !== 'UNAVAILABLE') return;
    const now = Date.now() - phase.startedAt;
    const from = sentAt === undefined ? now : Math.max(0, sentAt - phase.startedAt);
    const window = phase.unavailable;
    if (window === null) phase.unavailable = { first: from, last: now, count: 1 };
    else {
      window.first = Math.min(window.first, from);
      window.last = Math.max(window.last, now);
      window.count++;
    }
  }
}
