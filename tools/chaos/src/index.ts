/**
 * @rooms-kit/chaos: the chaos run of the rooms cluster (`npm run chaos`): Redis and three gateway nodes, SDK clients
 * at a fixed rate, node SIGKILL, SIGSTOP, Redis loss and drain, and a table of what the clients saw. See README.md.
 */
export { ChaosRun } from './chaos-run.js';
export { FAULTS, FULL_OPTIONS, SHORT_OPTIONS, USAGE, parseChaosArgs } from './options.js';
export type { ChaosOptions, FaultName, ParsedCommand } from './options.js';
export { dueZeroFailures, formatReport } from './report.js';
export type { ChaosReport } from './report.js';
export type { ExitRecord, MembershipCheck, PhaseFigures, ResumeRecord } from './phase-tally.js';
