import type { DriverPool } from './driver-pool.js';
import type { ChurnResult } from './ipc.js';
import type { RunSettings } from './runner.js';
import type { ChurnScenario } from './scenarios.js';
import { summarizeRow } from './table.js';
import type { Row } from './table.js';
import type { RunningTarget } from './targets.js';
import { interferenceNotes, measureWindow } from './window.js';

/** The churn scenario on a started target: completed joins per second and server CPU per join (with its leave). */
export async function runChurn(
  scenario: ChurnScenario,
  target: RunningTarget,
  driver: DriverPool,
  settings: RunSettings,
  rows: Row[],
): Promise<void> {
  const label = `[${scenario.name}/${target.spec.name}]`;
  settings.log(`${label} ${scenario.groups} groups, ${scenario.churners} churners`);
  const client = driver.drivers[0]!;
  await client.call(
    {
      type: 'setup-churn',
      plan: { protocol: target.spec.protocol, urls: target.urls, groups: scenario.groups, churners: scenario.churners },
    },
    300_000,
  );
  await client.call({ type: 'churn' });
  const window = await measureWindow(target, driver, settings);
  const result = await client.call<ChurnResult>({ type: 'stop' });
  const notes = ['µs/op = per join + its leave'];
  if (target.spec.redis) notes.push(`redis ${window.redisCpuPerOp.toFixed(2)} µs/op`);
  notes.push(...interferenceNotes(window));
  if (result.errors) notes.push(`${result.errors} failed requests; first: ${result.firstError ?? '?'}`);
  const heap = await target.memory(false);
  const row: Row = {
    scenario: scenario.name,
    target: target.spec.name,
    measure: 'join+leave',
    ...(heap ? { heapMB: heap.heapUsed / 2 ** 20 } : {}),
    rate: window.rate,
    rateUnit: 'joins',
    rateIsCapacity: true,
    cpuPerOp: window.cpuPerOp,
    rssMB: target.rssBytes() / 2 ** 20,
    clientCpuPercent: window.clientCpuPercent,
    notes,
  };
  rows.push(row);
  settings.log(`${label} ${summarizeRow(row)}`);
}
