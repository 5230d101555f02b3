import type { DriverPool } from './driver-pool.js';
import type { IdleResult } from './ipc.js';
import type { RunSettings } from './runner.js';
import type { IdleScenario } from './scenarios.js';
import { summarizeRow } from './table.js';
import type { Row } from './table.js';
import type { RunningTarget } from './targets.js';
import { sleep } from './window.js';

/**
 * The idle scenario on a started target: the server's RSS and heap (after a full GC) before and after one driver
 * opens the connections, and the CPU the server spent accepting them.
 */
export async function runIdle(
  scenario: IdleScenario,
  target: RunningTarget,
  driver: DriverPool,
  settings: RunSettings,
  rows: Row[],
): Promise<void> {
  const label = `[${scenario.name}/${target.spec.name}]`;
  await sleep(0.5);
  const before = await target.memory(true);
  const rssBefore = before?.rss ?? target.rssBytes();
  const cpuBefore = target.cpuMicros();
  settings.log(`${label} opening ${scenario.connections} connections`);
  const idle = await driver.drivers[0]!.call<IdleResult>(
    { type: 'connect-idle', protocol: target.spec.protocol, urls: target.urls, count: scenario.connections },
    300_000,
  );
  const cpuAfter = target.cpuMicros();
  await sleep(1);
  const after = await target.memory(true);
  const rssAfter = after?.rss ?? target.rssBytes();
  const notes = [`${idle.connected} connections`, 'RSS after full GC'];
  if (before && after) {
    notes.push(`heap ${((after.heapUsed - before.heapUsed) / idle.connected / 1024).toFixed(1)} KB/conn`);
  }
  const row: Row = {
    scenario: scenario.name,
    target: target.spec.name,
    measure: 'idle',
    rate: idle.connected / idle.seconds,
    rateUnit: 'connections',
    rateIsCapacity: false,
    cpuPerOp: (cpuAfter - cpuBefore) / idle.connected,
    rssMB: rssAfter / 2 ** 20,
    ...(after ? { heapMB: after.heapUsed / 2 ** 20 } : {}),
    kbPerConnection: (rssAfter - rssBefore) / idle.connected / 1024,
    notes,
  };
  rows.push(row);
  settings.log(`${label} ${row.kbPerConnection!.toFixed(1)} KB/conn, ${summarizeRow(row)}`);
}

