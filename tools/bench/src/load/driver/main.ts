/**
 * The client driver process: forked by the orchestrator, it opens the benchmark connections and runs the loads it
 * is told to over IPC (see ../ipc.ts). It exits when the orchestrator disconnects, so it never outlives a run.
 */
import type { DriverCommand, DriverReply } from '../ipc.js';
import { ChurnWorkload } from './churn-workload.js';
import { GroupsWorkload } from './groups-workload.js';
import { connectIdle } from './idle-connections.js';

let groups: GroupsWorkload | undefined;
let churn: ChurnWorkload | undefined;

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not set up`);
  return value;
}

async function handle(cmd: DriverCommand): Promise<unknown> {
  switch (cmd.type) {
    case 'setup-groups':
      groups ??= new GroupsWorkload(cmd.plan);
      return groups.setUp(cmd.stage);
    case 'setup-churn':
      churn = await ChurnWorkload.setUp(cmd.plan);
      return undefined;
    case 'closed-loop':
      need(groups, 'groups').startClosedLoop(cmd.inflight, cmd.pick);
      return undefined;
    case 'fixed-rate':
      need(groups, 'groups').startFixedRate(cmd.messagesPerSecond, cmd.pick);
      return undefined;
    case 'churn':
      need(churn, 'churn').start();
      return undefined;
    case 'mark':
      return churn ? churn.mark() : need(groups, 'groups').mark(cmd.record);
    case 'stop':
      return churn ? churn.stop() : need(groups, 'groups').stop();
    case 'drain':
      return need(groups, 'groups').drain(cmd.sent, cmd.drainMs);
    case 'connect-idle':
      return connectIdle(cmd.protocol, cmd.urls, cmd.count);
  }
}

function reply(message: DriverReply): void {
  process.send?.(message);
}

process.on('message', (cmd: DriverCommand) => {
  handle(cmd).then(
    (result) => reply({ id: cmd.id, ok: true, result }),
    (e: unknown) => reply({ id: cmd.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (e) => console.error('[driver] uncaught:', e));
process.on('unhandledRejection', (e) => console.error('[driver] unhandled rejection:', e));
