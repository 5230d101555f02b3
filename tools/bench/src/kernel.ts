/**
 * The kernel benchmark (`npx nx run bench:kernel`): NodeManager + in-memory backend + a no-op delivery port,
 * no network. Measures (a) group creation rate and heap per group at 100,000 groups of one member, (b) messages and
 * deliveries per second through a 100-member group, (c) joins + leaves per second, and prints a Markdown table.
 * Heap figures need `--expose-gc`: without it the script runs itself again with the flag.
 * Options: `--groups=N` (default 100000), `--members=N` (default 100), `--seconds=S` per timed phase (default 2).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exposedGc } from './kernel/heap.js';
import { markdownReport } from './kernel/report.js';
import { measureBroadcast, measureGroups, measureJoinLeave } from './kernel/scenarios.js';

function option(name: string, fallback: number): number {
  const raw = process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

async function main(): Promise<void> {
  const groups = option('groups', 100_000);
  const members = option('members', 100);
  const phaseMs = option('seconds', 2) * 1000;
  console.error(`kernel benchmark: ${groups} groups, a ${members}-member broadcast, ${phaseMs / 1000} s per timed phase`);
  const groupsResult = await measureGroups(groups);
  const broadcastResult = await measureBroadcast(members, phaseMs);
  const joinLeaveResult = await measureJoinLeave(100, phaseMs);
  console.log(markdownReport(groupsResult, broadcastResult, joinLeaveResult));
}

if (exposedGc()) {
  await main();
} else {
  // Re-run under the same loader flags (tsx's) with the collector exposed, so heap figures count live objects only.
  const child = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  if (child.error) throw child.error;
  process.exitCode = child.status ?? 1;
}
