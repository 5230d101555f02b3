import type { ChaosCluster } from './chaos-cluster.js';
import type { FaultName } from './options.js';

/** What a fault works with. */
export interface FaultContext {
  cluster: ChaosCluster;
  /** Waits (bounded) for the view to converge; the outcome is recorded in the current phase under `label`. */
  converge(label: string): Promise<void>;
  /** How long a node stays stopped. */
  stallMs: number;
}

/** One fault of the schedule: its row label and how it is injected, settled and undone. */
export interface Fault {
  name: FaultName;
  label: string;
  /** Injects the fault, waits for the view to converge, restores what it broke, waits again. */
  inject(context: FaultContext): Promise<void>;
}

/** Which node (index) gets each node fault: three different nodes. */
export interface FaultRoles {
  kill: number;
  stop: number;
  drain: number;
}

/**
 * The faults `names`, in that order, on the nodes of `roles`:
 * - `kill`: SIGKILL of a node; its clients reconnect to the others and resume; the view converges; the node is
 *   restarted (a new process and node id on the same port) and the view converges again.
 * - `stop`: SIGSTOP of a node for `stallMs` (longer than the node liveness: the others find it dead), SIGCONT; its
 *   clients stay connected to it; the view converges.
 * - `redis`: SIGKILL of Redis and its restart, empty, at once; the nodes put the groups back; the view converges.
 * - `drain`: SIGTERM of a node: it drains (its clients get 1001 and resume on the others) and exits; the view
 *   converges; the node is restarted and the view converges again.
 */
export function faultSchedule(names: readonly FaultName[], roles: FaultRoles, stallMs: number): Fault[] {
  return names.map((name): Fault => {
    switch (name) {
      case 'kill':
        return {
          name,
          label: `SIGKILL node ${roles.kill + 1}, restart`,
          async inject({ cluster, converge }) {
            await cluster.kill(roles.kill);
            await converge('after the kill');
            await cluster.restart(roles.kill);
            await converge('after the restart');
          },
        };
      case 'stop':
        return {
          name,
          label: `SIGSTOP node ${roles.stop + 1} for ${stallMs / 1000} s`,
          async inject({ cluster, converge }) {
            await cluster.stall(roles.stop, stallMs);
            await converge('after SIGCONT');
          },
        };
      case 'redis':
        return {
          name,
          label: 'SIGKILL Redis, empty restart',
          async inject({ cluster, converge }) {
            await cluster.restartRedis();
            await converge('after the restart');
          },
        };
      case 'drain':
        return {
          name,
          label: `SIGTERM (drain) node ${roles.drain + 1}, restart`,
          async inject({ cluster, converge }) {
            await cluster.drain(roles.drain);
            await converge('after the drain');
            await cluster.restart(roles.drain);
            await converge('after the restart');
          },
        };
    }
  });
}
