/**
 * `npm run bench`: the load benchmark. For every selected scenario and target it starts the servers as separate
 * processes (and a redis-server where needed), drives them from a separate client process, and prints one
 * Markdown table: deliveries/s (closed loop), latency at a fixed rate, server CPU per delivery, loss, memory.
 * Every process it starts is killed when it ends, fails or is interrupted. See BENCHMARKS.md at the repo root.
 */
import { parseOptions, USAGE } from './options.js';
import { describeMachine } from './machine.js';
import { installExitHooks, runningChildren } from './process/children.js';
import { runScenarioOnTarget } from './runner.js';
import { selectScenarios } from './scenarios.js';
import { renderTable } from './table.js';
import type { Row } from './table.js';
import { TARGETS } from './targets.js';

async function main(): Promise<number> {
  let options;
  let scenarios;
  try {
    options = parseOptions(process.argv.slice(2));
    scenarios = selectScenarios(options.scenario);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  installExitHooks();
  const started = performance.now();
  const log = (line: string): void => {
    console.error(`${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s ${line}`);
  };
  const settings = {
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    log,
    clients: options.clients,
    ...(options.profileDir ? { profileDir: options.profileDir } : {}),
  };
  log(`machine: ${describeMachine()}`);
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const targets = scenario.targets.filter((t) => options.targets.includes(t));
    log(`scenario ${scenario.name}: ${scenario.description} (targets: ${targets.join(', ') || 'none selected'})`);
    for (const name of targets) rows.push(...(await runScenarioOnTarget(scenario, TARGETS[name], settings)));
  }
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`\n${describeMachine()}\n\n\`${command}\` (${options.durationSeconds} s measured after ${options.warmupSeconds} s warm-up per row, in ~1 s sub-windows of which each row shows the one with the least other load; ${options.clients} client processes; took ${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
  console.log(renderTable(rows));
  if (runningChildren() > 0) {
    console.error(`warning: ${runningChildren()} child processes still running; killing them`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error('benchmark failed:', e);
    process.exit(1);
  },
);
