/**
 * Messages between the orchestrator (main.ts) and the client driver process (driver/main.ts), over the fork IPC
 * channel. Every command carries an `id`; the driver answers each with exactly one `DriverReply` of the same id.
 */

import type { SparseHistogram } from './histogram.js';

/** How the driver speaks to a target: our gateway (docs/protocol.md), Socket.IO, or the ws baseline's minimal protocol. */
export type WireProtocol = 'rooms' | 'socketio' | 'ws';

/** How a closed-loop or fixed-rate load picks the next sender. */
export type SenderPick = 'roundrobin' | 'random';

/**
 * Groups of members for the message scenarios. Member i of a group connects to `urls[i % urls.length]`; of the
 * members, this driver opens only those it owns (see ownership.ts). Members 0..senders-1 of each group broadcast.
 */
export interface GroupsPlan {
  protocol: WireProtocol;
  urls: string[];
  groups: number;
  membersPerGroup: number;
  sendersPerGroup: number;
  payloadBytes: number;
  driverIndex: number;
  driverCount: number;
}

/** Group setup runs in stages over every driver: all connect, then driver 0 creates the groups, then all join. */
export type SetupStage = 'connect' | 'create' | 'join';

/** Anchored groups plus churning connections that join and leave them. */
export interface ChurnPlan {
  protocol: WireProtocol;
  urls: string[];
  groups: number;
  churners: number;
}

/** A command from the orchestrator. */
export type DriverCommand =
  | { id: number; type: 'setup-groups'; plan: GroupsPlan; stage: SetupStage }
  | { id: number; type: 'setup-churn'; plan: ChurnPlan }
  | { id: number; type: 'closed-loop'; inflight: number; pick: SenderPick }
  | { id: number; type: 'fixed-rate'; messagesPerSecond: number; pick: SenderPick }
  | { id: number; type: 'churn' }
  | { id: number; type: 'mark'; record: boolean }
  | { id: number; type: 'stop' }
  | { id: number; type: 'drain'; sent: number[]; drainMs: number }
  | { id: number; type: 'connect-idle'; protocol: WireProtocol; urls: string[]; count: number };

/** Counters at one instant, for rates over a measurement window. */
export interface Mark {
  /** Monotonic time, µs. */
  at: number;
  /** Deliveries (markers received), or completed joins in the churn load. */
  ops: number;
  /** Messages sent. */
  sent: number;
  /** The driver's own CPU time so far (user + system), µs. */
  cpuMicros: number;
}

/**
 * What `stop` returns for a message load: messages sent so far by each sender this driver owns, indexed
 * `group * sendersPerGroup + sender` (0 for senders of other drivers). The orchestrator sums these over drivers
 * and passes the total to every driver's `drain`.
 */
export interface StopResult {
  sent: number[];
}

/** What a load phase produced at one driver, returned by `drain`. */
export interface PhaseResult {
  lost: number;
  duplicates: number;
  /**
   * Latency of the deliveries, µs, one histogram per recording interval: each `mark(record: true)` starts the
   * next interval, `mark(record: false)` ends recording.
   */
  latency: SparseHistogram[];
  /** Error replies and unexpected closes seen by the driver during the phase. */
  errors: number;
  closed: number;
  /** Whether every sent message reached every receiver before the drain timeout. */
  drained: boolean;
  firstError?: string;
}

/** What `stop` returns for the churn load. */
export interface ChurnResult {
  errors: number;
  firstError?: string;
}

/** Result of `connect-idle`. */
export interface IdleResult {
  connected: number;
  seconds: number;
}

/** The driver's answer to one command. */
export type DriverReply =
  | { id: number; ok: true; result?: unknown }
  | { id: number; ok: false; error: string };
