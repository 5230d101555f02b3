/**
 * `npm run chaos -- [options]` (see `USAGE`): one chaos run, its table printed as Markdown; exit code 0 when every
 * due zero is zero, 1 when one is not (or the run could not finish), 2 for a bad command line, 130 after Ctrl-C.
 * Ctrl-C (or SIGTERM) stops every process the run started; a second one exits at once after SIGKILLing the nodes.
 */
import { randomInt } from 'node:crypto';
import { ChaosRun } from './chaos-run.js';
import { USAGE, parseChaosArgs } from './options.js';
import type { ParsedCommand } from './options.js';
import { dueZeroFailures, formatReport } from './report.js';

let command: ParsedCommand;
try {
  command = parseChaosArgs(process.argv.slice(2), () => randomInt(2 ** 31));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
if (command.help) {
  console.log(USAGE);
  process.exit(0);
}

const run = new ChaosRun(command.options, (line) => console.log(line));
let interrupted = false;
const interrupt = (): void => {
  if (interrupted) {
    run.killNow();
    process.exit(130);
  }
  interrupted = true;
  console.log('\ninterrupted: stopping the clients, the nodes and Redis (again to stop at once)');
  void run.close().finally(() => process.exit(130));
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);
// The last resort when this process ends any other way: no node outlives it.
process.on('exit', () => run.killNow());

const report = await run.execute();
console.log(`\n${formatReport(report)}`);
process.exit(dueZeroFailures(report).length === 0 ? 0 : 1);
