import os from 'node:os';
import type { BroadcastResult, GroupsResult, JoinLeaveResult } from './scenarios.js';

/** The budget: heap per group, with its one member. */
export const BYTES_PER_GROUP_TARGET = 5 * 1024;

/** What the report says about the machine: CPU model, logical cores, node version. */
export function machine(): { cpu: string; cores: number; node: string } {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, node: process.version };
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

/** The kernel benchmark's results as a Markdown table (machine first). */
export function markdownReport(groups: GroupsResult, broadcast: BroadcastResult, joinLeave: JoinLeaveResult): string {
  const { cpu, cores, node } = machine();
  const withSession = groups.bytesPerGroup + groups.bytesPerSession;
  const verdict = groups.bytesPerGroup <= BYTES_PER_GROUP_TARGET ? 'within' : 'OVER';
  const rows: Array<[string, string]> = [
    ['Machine', `${cpu}, ${cores} cores, Node ${node}`],
    [`Create ${integer.format(groups.groups)} groups, 1 member each`, `${integer.format(groups.groupsPerSecond)} groups/s`],
    ['Heap per group incl. its member', `${integer.format(groups.bytesPerGroup)} B (${verdict} the ${integer.format(BYTES_PER_GROUP_TARGET)} B target)`],
    ['Heap per registered session', `${integer.format(groups.bytesPerSession)} B`],
    ['Heap per group incl. member and its session', `${integer.format(withSession)} B`],
    [`Broadcast to a ${broadcast.members}-member group`, `${integer.format(broadcast.messagesPerSecond)} messages/s (${integer.format(broadcast.messages)} sent)`],
    ['Deliveries through the no-op port', `${integer.format(broadcast.deliveriesPerSecond)} deliveries/s`],
    ['Kernel CPU per delivery', `${decimal.format(broadcast.cpuMicrosPerDelivery)} µs`],
    ['Joins + leaves on one group', `${integer.format(joinLeave.operationsPerSecond)} ops/s (${integer.format(joinLeave.operations)} ops)`],
  ];
  return ['| Kernel benchmark | Result |', '| --- | --- |', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n');
}
