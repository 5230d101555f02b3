import type { ChurnPlan, ChurnResult, Mark } from '../ipc.js';
import { nowMicros } from '../marker.js';
import type { BenchConnection } from './connection.js';
import { createConnection, forEachLimited } from './connect.js';

/**
 * Join/leave churn: `groups` anchor connections each create and stay in one group (so no group ever empties and
 * gets discarded mid-run), and `churners` connections loop "join a random group, leave it", one request in flight
 * each. `ops` counts completed joins.
 */
export class ChurnWorkload {
  private readonly anchors: BenchConnection[] = [];
  private readonly churners: BenchConnection[] = [];
  private joins = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private errors = 0;
  private firstError: string | undefined;

  private constructor(private readonly plan: ChurnPlan) {}

  /** Connects the anchors (each creating its group) and the churners. */
  static async setUp(plan: ChurnPlan): Promise<ChurnWorkload> {
    const workload = new ChurnWorkload(plan);
    const { protocol, urls, groups, churners } = plan;
    await forEachLimited(groups, 50, async (g) => {
      const conn = createConnection(protocol, urls[g % urls.length]!);
      workload.anchors[g] = conn;
      await conn.open();
      await conn.create(`churn-${g}`);
    });
    await forEachLimited(churners, 100, async (c) => {
      const conn = createConnection(protocol, urls[c % urls.length]!);
      workload.churners[c] = conn;
      await conn.open();
    });
    return workload;
  }

  /** Counters now (`ops` = completed joins). */
  mark(): Mark {
    const cpu = process.cpuUsage();
    return { at: nowMicros(), ops: this.joins, sent: this.joins, cpuMicros: cpu.user + cpu.system };
  }

  /** Starts every churner's join/leave loop. */
  start(): void {
    this.running = true;
    let seed = 1;
    this.loops = this.churners.map((conn) => {
      const start = seed++;
      return this.loop(conn, start);
    });
  }

  /** Stops the loops after their current request and reports failures. */
  async stop(): Promise<ChurnResult> {
    this.running = false;
    await Promise.all(this.loops);
    return { errors: this.errors, ...(this.firstError === undefined ? {} : { firstError: this.firstError }) };
  }

  private async loop(conn: BenchConnection, start: number): Promise<void> {
    let g = start;
    while (this.running) {
      g = (g * 7 + 13) % this.plan.groups;
      const group = `churn-${g}`;
      try {
        await conn.join(group);
        this.joins++;
        await conn.leave(group);
      } catch (e) {
        this.errors++;
        this.firstError ??= (e as Error).message;
        if (this.errors > 1000) return;
      }
    }
  }
}
