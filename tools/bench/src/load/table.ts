/** One line of the results table. Figures that do not apply to a row are left undefined (shown as "–"). */
export interface Row {
  scenario: string;
  target: string;
  /** `closed-loop`, `fixed 50k/s`, `idle`, `join+leave`. */
  measure: string;
  /** Operations per second: deliveries, joins or connection opens (the unit is in `rateUnit`). */
  rate?: number;
  rateUnit?: 'deliveries' | 'joins' | 'connections';
  /** Whether `rate` is a capacity figure (closed loop, churn) worth a ratio; a fixed rate is not. */
  rateIsCapacity?: boolean;
  /** Server CPU per operation, µs (all nodes; Redis excluded). */
  cpuPerOp?: number;
  /** Latency percentiles, ms. */
  p50?: number;
  p99?: number;
  max?: number;
  lost?: number;
  duplicates?: number;
  /** Server RSS (all nodes) after the scenario, MB. */
  rssMB?: number;
  /** Server V8 heap in use (all nodes) after the scenario, MB, as the stats agent reported it. */
  heapMB?: number;
  /** Server memory per idle connection, KB (RSS delta / connections). */
  kbPerConnection?: number;
  /** The client driver's CPU over the window, % of one core. */
  clientCpuPercent?: number;
  notes: string[];
}

const DASH = '–';

function fixed(n: number | undefined, digits: number): string {
  return n === undefined || !Number.isFinite(n) ? DASH : n.toFixed(digits);
}

function thousands(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? DASH : Math.round(n).toLocaleString('en-US');
}

function ratio(n: number | undefined, reference: number | undefined): string {
  if (n === undefined || reference === undefined || !(reference > 0) || !Number.isFinite(n)) return DASH;
  const r = n / reference;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/**
 * The Socket.IO row a row is compared with: the `socketio` (one node) row of the same scenario and measure, or,
 * in scenarios without one (cluster2), the `socketio-redis` row.
 */
export function referenceRow(row: Row, rows: Row[]): Row | undefined {
  const same = (target: string): Row | undefined =>
    rows.find((r) => r.scenario === row.scenario && r.measure === row.measure && r.target === target);
  return same('socketio') ?? same('socketio-redis');
}

/** The rows as a GitHub Markdown table, with ratios to Socket.IO. */
export function renderTable(rows: Row[]): string {
  const header = [
    'scenario',
    'target',
    'measure',
    'rate /s',
    '× SIO',
    'server µs/op',
    '× SIO',
    'p50 ms',
    'p99 ms',
    'max ms',
    'lost',
    'dup',
    'server RSS / heap MB',
    'KB/conn',
    'client CPU',
    'notes',
  ];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map((h, i) => (i < 3 || i === 15 ? '---' : '---:')).join(' | ')} |`];
  for (const row of rows) {
    const ref = referenceRow(row, rows);
    const rate = row.rate === undefined ? DASH : `${thousands(row.rate)} ${row.rateUnit === 'deliveries' ? '' : row.rateUnit}`.trim();
    const cells = [
      row.scenario,
      row.target,
      row.measure,
      rate,
      row.rateIsCapacity ? ratio(row.rate, ref?.rate) : DASH,
      fixed(row.cpuPerOp, 2),
      ratio(row.cpuPerOp, ref?.cpuPerOp),
      fixed(row.p50, 2),
      fixed(row.p99, 2),
      fixed(row.max, 1),
      row.lost === undefined ? DASH : String(row.lost),
      row.duplicates === undefined ? DASH : String(row.duplicates),
      row.heapMB === undefined ? fixed(row.rssMB, 0) : `${fixed(row.rssMB, 0)} / ${fixed(row.heapMB, 0)}`,
      fixed(row.kbPerConnection, 1),
      row.clientCpuPercent === undefined ? DASH : `${row.clientCpuPercent.toFixed(0)} %`,
      row.notes.join('; ').replace(/\|/g, '/'),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** One line for the progress log: rate, CPU per operation, p99, loss, client CPU and notes. */
export function summarizeRow(row: Row): string {
  const parts = [`${Math.round(row.rate ?? 0).toLocaleString('en-US')} ${row.rateUnit}/s`];
  if (row.cpuPerOp !== undefined) parts.push(`${row.cpuPerOp.toFixed(2)} µs/op`);
  if (row.p99 !== undefined) parts.push(`p99 ${row.p99.toFixed(2)} ms`);
  if (row.lost !== undefined) parts.push(`lost ${row.lost}`);
  if (row.clientCpuPercent !== undefined) parts.push(`client ${row.clientCpuPercent.toFixed(0)} %`);
  if (row.notes.length) parts.push(row.notes.join('; '));
  return parts.join(', ');
}

