import { DriverPool } from './driver-pool.js';
import { runChurn } from './run-churn.js';
import { runGroups } from './run-groups.js';
import { runIdle } from './run-idle.js';
import type { Scenario } from './scenarios.js';
import type { Row } from './table.js';
import { startTarget, TargetUnavailableError } from './targets.js';
import type { RunningTarget, TargetSpec } from './targets.js';

/** Timing of every measurement. */
export interface RunSettings {
  durationSeconds: number;
  warmupSeconds: number;
  /** Progress lines (to stderr), so a long run shows where it is. */
  log: (line: string) => void;
  /** When set, CPU profiles of every process are written here. */
  profileDir?: string;
  /** Client driver processes for the message scenarios (idle and churn use one). */
  clients: number;
}

/**
 * Runs one scenario on one target: starts the target's processes and a client driver, measures, and stops them
 * all whatever happens. A target that does not start gives one "unavailable" row; a failure mid-scenario gives
 * the rows measured so far plus a "failed" row. Never throws for a target's fault.
 */
export async function runScenarioOnTarget(scenario: Scenario, spec: TargetSpec, settings: RunSettings): Promise<Row[]> {
  const base = { scenario: scenario.name, target: spec.name };
  let target: RunningTarget;
  try {
    target = await startTarget(spec, settings.profileDir ? { dir: settings.profileDir, prefix: scenario.name } : undefined);
  } catch (e) {
    const reason = e instanceof TargetUnavailableError ? e.message : String(e);
    settings.log(`[${scenario.name}/${spec.name}] unavailable: ${reason}`);
    return [{ ...base, measure: DASH_MEASURE, notes: [`unavailable: ${reason}`] }];
  }
  const driver = new DriverPool(
    scenario.kind === 'groups' ? settings.clients : 1,
    settings.profileDir ? { dir: settings.profileDir, name: `${scenario.name}-${spec.name}-client` } : undefined,
  );
  const rows: Row[] = [];
  try {
    switch (scenario.kind) {
      case 'groups':
        await runGroups(scenario, target, driver, settings, rows);
        break;
      case 'idle':
        await runIdle(scenario, target, driver, settings, rows);
        break;
      case 'churn':
        await runChurn(scenario, target, driver, settings, rows);
        break;
    }
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    settings.log(`[${scenario.name}/${spec.name}] failed: ${reason}`);
    rows.push({ ...base, measure: DASH_MEASURE, notes: [`failed: ${reason}`] });
  } finally {
    await driver.stop();
    await target.stop();
  }
  return rows;
}

const DASH_MEASURE = '–';
