import type { DriverPool, PoolPhase } from './driver-pool.js';
import type { SetupStage } from './ipc.js';
import { sendersOwnedBy } from './ownership.js';
import type { RunSettings } from './runner.js';
import type { GroupsScenario } from './scenarios.js';
import { summarizeRow } from './table.js';
import type { Row } from './table.js';
import type { RunningTarget } from './targets.js';
import { interferenceNotes, measureWindow } from './window.js';
import type { Window } from './window.js';

const DRAIN_MS = 5000;

/**
 * A message scenario on a started target: sets the groups up over the client drivers, then measures a closed
 * loop (capacity) and a fixed rate (latency), each followed by a drain that counts lost and duplicated messages.
 * Pushes one row per phase as soon as it is measured, so a later failure keeps them.
 */
export async function runGroups(
  scenario: GroupsScenario,
  target: RunningTarget,
  driver: DriverPool,
  settings: RunSettings,
  rows: Row[],
): Promise<void> {
  const label = `[${scenario.name}/${target.spec.name}]`;
  const base = { scenario: scenario.name, target: target.spec.name };
  const clients = driver.size;
  settings.log(`${label} connecting ${scenario.groups * scenario.membersPerGroup} members from ${clients} client process(es)`);
  // The last `clients` members acknowledge (one per client process), so they cannot also send.
  const senders = Math.min(scenario.sendersPerGroup, scenario.membersPerGroup - clients);
  const split = { members: scenario.membersPerGroup, senders, drivers: clients };
  // Each driver's share of the load follows its share of the senders.
  const share = (d: number): number => sendersOwnedBy(d, split) / senders;
  for (const stage of ['connect', 'create', 'join'] as SetupStage[]) {
    await Promise.all(
      driver.drivers.map((client, d) =>
        client.call(
          {
            type: 'setup-groups',
            stage,
            plan: {
              protocol: target.spec.protocol,
              urls: target.urls,
              groups: scenario.groups,
              membersPerGroup: scenario.membersPerGroup,
              sendersPerGroup: senders,
              payloadBytes: scenario.payloadBytes,
              driverIndex: d,
              driverCount: clients,
            },
          },
          300_000,
        ),
      ),
    );
  }

  await Promise.all(
    driver.drivers.map((client, d) =>
      client.call({ type: 'closed-loop', inflight: Math.max(1, Math.round(scenario.inflight * share(d))), pick: scenario.pick }),
    ),
  );
  const closed = await measureWindow(target, driver, settings);
  const closedPhase = await driver.stopAndDrain(DRAIN_MS, closed.interval);
  const closedRow: Row = {
    ...base,
    measure: 'closed-loop',
    ...deliveryFigures(closed, closedPhase),
    rateIsCapacity: true,
    notes: [`${scenario.inflight} msgs in flight`, ...phaseNotes(closedPhase, closed, target)],
  };
  rows.push(closedRow);
  settings.log(`${label} closed-loop ${summarizeRow(closedRow)}`);

  const messagesPerSecond = scenario.fixedDeliveriesPerSecond / (scenario.membersPerGroup - 1);
  await Promise.all(
    driver.drivers.map((client, d) =>
      client.call({ type: 'fixed-rate', messagesPerSecond: messagesPerSecond * share(d), pick: scenario.pick }),
    ),
  );
  const fixedWindow = await measureWindow(target, driver, settings);
  const fixedPhase = await driver.stopAndDrain(DRAIN_MS, fixedWindow.interval);
  const fixedRow: Row = {
    ...base,
    measure: `fixed ${scenario.fixedDeliveriesPerSecond / 1000}k/s`,
    ...deliveryFigures(fixedWindow, fixedPhase),
    rateIsCapacity: false,
    notes: [`${Math.round(messagesPerSecond)} msgs/s`, ...behind(fixedWindow, scenario), ...phaseNotes(fixedPhase, fixedWindow, target)],
  };
  rows.push(fixedRow);
  settings.log(`${label} fixed-rate ${summarizeRow(fixedRow)}`);

  const rssMB = target.rssBytes() / 2 ** 20;
  const heap = await target.memory(false);
  for (const row of [closedRow, fixedRow]) {
    row.rssMB = rssMB;
    if (heap) row.heapMB = heap.heapUsed / 2 ** 20;
  }
}

function deliveryFigures(window: Window, phase: PoolPhase): Partial<Row> {
  return {
    rate: window.rate,
    rateUnit: 'deliveries',
    cpuPerOp: window.cpuPerOp,
    p50: phase.latency.p50 / 1000,
    p99: phase.latency.p99 / 1000,
    max: phase.latency.max / 1000,
    lost: phase.lost,
    duplicates: phase.duplicates,
    clientCpuPercent: window.clientCpuPercent,
  };
}

/** A note when a fixed-rate window did not deliver what was offered: the target (or the client) was behind. */
function behind(window: Window, scenario: GroupsScenario): string[] {
  const offered = scenario.fixedDeliveriesPerSecond;
  if (Math.abs(window.rate - offered) / offered <= 0.05) return [];
  return [`offered ${offered.toLocaleString('en-US')}/s: backlog (${window.rate > offered ? 'catching up' : 'falling behind'})`];
}

function phaseNotes(phase: PoolPhase, window: Window, target: RunningTarget): string[] {
  const notes: string[] = [];
  if (target.spec.redis) notes.push(`redis ${window.redisCpuPerOp.toFixed(2)} µs/op`);
  notes.push(...interferenceNotes(window));
  if (!phase.drained) notes.push(`not drained within ${DRAIN_MS / 1000} s`);
  if (phase.errors) notes.push(`${phase.errors} error replies`);
  if (phase.closed) notes.push(`${phase.closed} connections closed`);
  if (phase.firstError) notes.push(`first: ${phase.firstError.slice(0, 120)}`);
  return notes;
}

