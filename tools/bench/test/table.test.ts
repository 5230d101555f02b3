import { describe, expect, it } from 'vitest';
import { referenceRow, renderTable } from '../src/load/table.js';
import type { Row } from '../src/load/table.js';

const row = (target: string, rate: number, cpu: number, scenario = 'fanout100'): Row => ({
  scenario,
  target,
  measure: 'closed-loop',
  rate,
  rateUnit: 'deliveries',
  rateIsCapacity: true,
  cpuPerOp: cpu,
  notes: [],
});

describe('results table', () => {
  it('compares with the one-node Socket.IO row of the same scenario and measure', () => {
    const rows = [row('socketio', 100_000, 6), row('rooms', 1_000_000, 0.5), row('socketio-redis', 50_000, 8)];
    expect(referenceRow(rows[1]!, rows)?.target).toBe('socketio');
    const table = renderTable(rows);
    expect(table).toContain('| fanout100 | rooms | closed-loop | 1,000,000 | 10.0× | 0.50 | 0.08× |');
  });

  it('falls back to socketio-redis where the scenario has no one-node row', () => {
    const rows = [row('socketio-redis', 80_000, 6, 'cluster2'), row('rooms-redis', 800_000, 1.2, 'cluster2')];
    expect(referenceRow(rows[1]!, rows)?.target).toBe('socketio-redis');
    expect(renderTable(rows)).toContain('| 800,000 | 10.0× | 1.20 | 0.20× |');
  });

  it('shows dashes for missing figures and no rate ratio for fixed-rate rows', () => {
    const fixed: Row = { ...row('rooms', 50_000, 4), measure: 'fixed 50k/s', rateIsCapacity: false };
    const unavailable: Row = { scenario: 'cluster2', target: 'rooms-redis', measure: '–', notes: ['unavailable: no Redis | here'] };
    const table = renderTable([fixed, unavailable]);
    expect(table).toContain('| fanout100 | rooms | fixed 50k/s | 50,000 | – | 4.00 | – |');
    expect(table).toContain('unavailable: no Redis / here |');
    expect(table.split('\n')).toHaveLength(4);
  });
});
