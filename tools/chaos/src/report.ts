import { FOREIGN_MESSAGE } from './message-ledger.js';
import type { ChaosOptions } from './options.js';
import type { PhaseFigures, ResumeRecord } from './phase-tally.js';

/** What a chaos run found. */
export interface ChaosReport {
  options: ChaosOptions;
  /** Which node got which fault ("kill: node 2, stop: node 3, drain: node 1"). */
  roles: string;
  phases: PhaseFigures[];
  /** A few of the lost messages and live gaps, described. */
  examples: { lost: string[]; liveGaps: string[] };
  durationMs: number;
  /** Why the run stopped before its end (a node that would not start, the deadline), or null. */
  aborted: string | null;
}

/** Error codes that must never be answered (the standards: nothing makes a node answer `INTERNAL`). */
const FORBIDDEN_CODES = ['INTERNAL', FOREIGN_MESSAGE];

/**
 * The due zeros that are not zero, one line each (empty: the run is clean): lost, duplicated and echoed messages, live
 * gaps, ghosts and missing members after settling, exits nobody asked for, `INTERNAL` answers, foreign messages; and
 * the run's abort, if any.
 */
export function dueZeroFailures(report: ChaosReport): string[] {
  const failures: string[] = [];
  if (report.aborted !== null) failures.push(`the run did not finish: ${report.aborted}`);
  const figures: Array<[string, (phase: PhaseFigures) => number]> = [
    ['lost', (p) => p.lost],
    ['duplicated', (p) => p.duplicated],
    ['echoed', (p) => p.echoed],
    ['live gaps', (p) => p.liveGaps],
    ['ghosts', (p) => maxOf(p.checks.map((c) => c.ghosts))],
    ['missing', (p) => maxOf(p.checks.map((c) => c.missing))],
    ['unexpected exits', (p) => p.exits.filter((e) => !e.expected).length],
    ...FORBIDDEN_CODES.map((code): [string, (phase: PhaseFigures) => number] => [code, (p) => p.errors[code] ?? 0]),
  ];
  for (const [name, figure] of figures) {
    const where = report.phases.filter((phase) => figure(phase) > 0).map((phase) => `${phase.label}: ${figure(phase)}`);
    if (where.length > 0) failures.push(`${name} (${where.join('; ')})`);
  }
  return failures;
}

/** The report as Markdown: a line on the run, the table (a row per phase and the totals), then the details. */
export function formatReport(report: ChaosReport): string {
  const { options } = report;
  const lines = [
    `Chaos run: ${options.clients} clients in ${options.groups} groups on 3 nodes, ${options.rate} msgs/s, ${options.durationSeconds} s per phase, ` +
      `seed ${options.seed} (${report.roles}); ${(report.durationMs / 1000).toFixed(0)} s`,
    '',
    '| phase | sent | acked | delivered | lost | dup | echo | live gaps | ghosts | missing | settled | resumed | resume p50/max | replayed | UNAVAILABLE window | exits ok/bad | other errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...report.phases.map((phase) => row(phase.label, [phase])),
    row('**total**', report.phases),
    '',
    'Due zero: lost, dup, echo, live gaps, ghosts, missing, bad exits, and no INTERNAL answer.',
  ];
  const details = detailLines(report);
  if (details.length > 0) lines.push('', ...details);
  const failures = dueZeroFailures(report);
  lines.push('', failures.length === 0 ? 'Result: every due zero is zero.' : `Result: FAILED: ${failures.join('; ')}`);
  return lines.join('\n');
}

function row(label: string, phases: readonly PhaseFigures[]): string {
  const sum = (figure: (phase: PhaseFigures) => number): number => phases.reduce((total, phase) => total + figure(phase), 0);
  const checks = phases.flatMap((phase) => phase.checks);
  const resumes = phases.flatMap((phase) => phase.resumes);
  const times = resumes.map((r) => r.ms).sort((a, b) => a - b);
  const exits = phases.flatMap((phase) => phase.exits);
  const windows = phases.flatMap((phase) => (phase.unavailable ? [phase.unavailable] : []));
  const errors = new Map<string, number>();
  for (const phase of phases) for (const [code, count] of Object.entries(phase.errors)) errors.set(code, (errors.get(code) ?? 0) + count);
  errors.delete('UNAVAILABLE');
  const cells = [
    label,
    sum((p) => p.sent),
    sum((p) => p.acked),
    sum((p) => p.delivered),
    sum((p) => p.lost),
    sum((p) => p.duplicated),
    sum((p) => p.echoed),
    sum((p) => p.liveGaps) + (sum((p) => p.liveGapOffsets) > 0 ? ` (${sum((p) => p.liveGapOffsets)} offsets)` : ''),
    sum((p) => maxOf(p.checks.map((c) => c.ghosts))),
    sum((p) => maxOf(p.checks.map((c) => c.missing))),
    checks.length === 0 ? '—' : `${checks.every((c) => c.converged) ? '' : 'NO, '}${seconds(sum((p) => p.checks.reduce((t, c) => t + c.ms, 0)))}`,
    resumes.length === 0 ? '—' : `${resumes.filter((r) => r.resumed).length}/${resumes.length}${clientsOf(resumes)}`,
    times.length === 0 ? '—' : `${Math.round(times[Math.floor((times.length - 1) / 2)] as number)}/${Math.round(times.at(-1) as number)} ms`,
    sum((p) => p.replayed),
    windows.length === 0 ? '—' : windows.map((w) => `${seconds(w.last - w.first)} (${w.count}×, +${seconds(w.first)}…+${seconds(w.last)})`).join(', '),
    `${exits.filter((e) => e.expected).length}/${exits.filter((e) => !e.expected).length}`,
    errors.size === 0 ? '—' : [...errors].map(([code, count]) => `${code} ${count}`).join(', '),
  ];
  return `| ${cells.join(' | ')} |`;
}

function detailLines(report: ChaosReport): string[] {
  const lines: string[] = [];
  for (const phase of report.phases) {
    for (const check of phase.checks.filter((c) => !c.converged)) {
      lines.push(`- ${phase.label}, ${check.label}: not converged within ${seconds(check.ms)}: ${check.detail.join('; ')}`);
    }
    const badExits = phase.exits.filter((e) => !e.expected);
    if (badExits.length > 0) lines.push(`- ${phase.label}: unexpected exits: ${badExits.map((e) => `${e.name} (${e.how})`).join(', ')}`);
    const closes = counts(phase.closes);
    if (closes !== '') lines.push(`- ${phase.label}: client connections closed: ${closes}`);
    const events = counts(phase.memberEvents);
    if (events !== '') lines.push(`- ${phase.label}: membership events at the clients: ${events}`);
    if (phase.refusedDelivered > 0) lines.push(`- ${phase.label}: ${phase.refusedDelivered} broadcasts answered with an error reached members all the same`);
    if (phase.sdkGaps > 0) lines.push(`- ${phase.label}: the SDK reported ${phase.sdkGaps} offsets lost for good (GAP)`);
    for (const [kind, notes] of Object.entries(phase.notes)) lines.push(`- ${phase.label}: ${kind}, e.g.: ${notes.join('; ')}`);
  }
  if (report.examples.lost.length > 0) lines.push(`- lost, e.g.: ${report.examples.lost.join('; ')}`);
  if (report.examples.liveGaps.length > 0) lines.push(`- live gaps, e.g.: ${report.examples.liveGaps.join('; ')}`);
  return lines;
}

/** "a ×3, b ×1", or "" for no counts. */
function counts(record: Record<string, number>): string {
  return Object.entries(record)
    .map(([key, count]) => `${key} ×${count}`)
    .join(', ');
}

/** " (by N clients)" when some client dropped more than once, else nothing. */
function clientsOf(resumes: readonly ResumeRecord[]): string {
  const clients = new Set(resumes.map((r) => r.client)).size;
  return clients === resumes.length ? '' : ` (by ${clients} clients)`;
}

function maxOf(values: readonly number[]): number {
  return values.reduce((max, value) => Math.max(max, value), 0);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
