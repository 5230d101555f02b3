import { describe, expect, it } from 'vitest';
import { PhaseTally } from '../src/phase-tally.js';
import { SHORT_OPTIONS } from '../src/options.js';
import { dueZeroFailures, formatReport } from '../src/report.js';
import type { ChaosReport } from '../src/report.js';

function report(fill: (tally: PhaseTally) => void): ChaosReport {
  const tally = new PhaseTally();
  tally.begin('start, steady traffic');
  tally.begin('SIGKILL node 2, restart');
  fill(tally);
  return { options: { ...SHORT_OPTIONS, seed: 1 }, roles: 'kill: node 2', phases: tally.phases, examples: { lost: [], liveGaps: [] }, durationMs: 60_000, aborted: null };
}

describe('the report', () => {
  it('finds nothing to fail in a clean run, and prints a row per phase, the totals and the verdict', () => {
    const clean = report((tally) => {
      Object.assign(tally.at(1), { sent: 10, acked: 9, delivered: 27 });
      tally.at(1).resumes.push({ client: 0, ms: 120, resumed: true }, { client: 1, ms: 300, resumed: true });
      tally.at(1).exits.push({ name: 'node 2', how: 'SIGKILL', expected: true });
      tally.at(1).checks.push({ label: 'after the kill', converged: true, ms: 400, ghosts: 0, missing: 0, detail: [] });
      tally.error('DISCONNECTED');
    });
    expect(dueZeroFailures(clean)).toEqual([]);
    const text = formatReport(clean);
    expect(text).toContain('| SIGKILL node 2, restart | 10 | 9 | 27 | 0 | 0 | 0 | 0 | 0 | 0 | 0.4 s | 2/2 | 120/300 ms | 0 | — | 1/0 | DISCONNECTED 1 |');
    expect(text).toContain('| **total** | 10 | 9 | 27 |');
    expect(text).toContain('Result: every due zero is zero.');
  });

  it('names every due zero that is not zero, with its phase, and the abort', () => {
    const dirty = report((tally) => {
      Object.assign(tally.at(0), { lost: 2, duplicated: 1, echoed: 1, liveGaps: 3 });
      tally.at(1).checks.push({ label: 'after the kill', converged: false, ms: 30_000, ghosts: 1, missing: 2, detail: ['node 1 lists x'] });
      tally.at(1).exits.push({ name: 'node 3', how: 'unasked: code 1', expected: false });
      tally.error('INTERNAL');
    });
    dirty.aborted = 'the deadline of 240 s passed';
    expect(dueZeroFailures(dirty)).toEqual([
      'the run did not finish: the deadline of 240 s passed',
      'lost (start, steady traffic: 2)',
      'duplicated (start, steady traffic: 1)',
      'echoed (start, steady traffic: 1)',
      'live gaps (start, steady traffic: 3)',
      'ghosts (SIGKILL node 2, restart: 1)',
      'missing (SIGKILL node 2, restart: 2)',
      'unexpected exits (SIGKILL node 2, restart: 1)',
      'INTERNAL (SIGKILL node 2, restart: 1)',
    ]);
    const text = formatReport(dirty);
    expect(text).toContain('not converged within 30.0 s: node 1 lists x');
    expect(text).toContain('unexpected exits: node 3 (unasked: code 1)');
    expect(text).toContain('Result: FAILED');
  });
});
