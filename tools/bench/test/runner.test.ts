import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayEntry } from '../src/load/paths.js';
import { runningChildren } from '../src/load/process/children.js';
import { startRedis } from '../src/load/process/redis.js';
import { ServerStartError, startServerNode } from '../src/load/process/server-node.js';
import { runScenarioOnTarget } from '../src/load/runner.js';
import type { GroupsScenario, Scenario } from '../src/load/scenarios.js';
import { TARGETS } from '../src/load/targets.js';
import type { TargetName } from '../src/load/targets.js';
import { childPids } from './support.js';

// Real processes end to end, with tiny sizes and windows: these check the harness works (nothing lost, every
// process stopped), not how fast anything is.
const settings = { durationSeconds: 0.3, warmupSeconds: 0.2, log: () => {}, clients: 2 };

const tinyGroups: GroupsScenario = {
  kind: 'groups',
  name: 'tiny',
  description: 'test',
  targets: [],
  groups: 2,
  membersPerGroup: 6,
  sendersPerGroup: 2,
  payloadBytes: 64,
  inflight: 4,
  pick: 'roundrobin',
  fixedDeliveriesPerSecond: 2000,
};

function expectNoChildren(): void {
  expect(runningChildren()).toBe(0);
  expect(childPids(process.pid)).toEqual([]);
}

const messageTargets: TargetName[] = existsSync(gatewayEntry) ? ['ws-baseline', 'socketio', 'rooms'] : ['ws-baseline', 'socketio'];

describe('load benchmark runner (real processes)', () => {
  afterAll(() => expectNoChildren());

  it.each(messageTargets)('measures a closed loop and a fixed rate on %s with nothing lost', async (name) => {
    const rows = await runScenarioOnTarget(tinyGroups, TARGETS[name], settings);
    expect(rows.map((r) => r.measure)).toEqual(['closed-loop', 'fixed 2k/s']);
    for (const row of rows) {
      expect(row.notes.join()).not.toMatch(/unavailable|failed|not drained/);
      expect(row.rate).toBeGreaterThan(0);
      expect(row.lost).toBe(0);
      expect(row.duplicates).toBe(0);
      expect(row.cpuPerOp).toBeGreaterThanOrEqual(0);
      expect(row.p99).toBeGreaterThan(0);
      expect(row.rssMB).toBeGreaterThan(10);
      expect(row.heapMB).toBeGreaterThan(0);
    }
    expectNoChildren();
  }, 60_000);

  it('counts idle connections and measures memory per connection', async () => {
    const idle: Scenario = { kind: 'idle', name: 'idle', description: 'test', targets: [], connections: 50 };
    const [row] = await runScenarioOnTarget(idle, TARGETS['ws-baseline'], settings);
    expect(row?.notes).toContain('50 connections');
    expect(row?.kbPerConnection).toBeDefined();
    expect(row?.rate).toBeGreaterThan(0);
    expectNoChildren();
  }, 60_000);

  it('measures join/leave churn', async () => {
    const churn: Scenario = { kind: 'churn', name: 'churn', description: 'test', targets: [], groups: 3, churners: 5 };
    const [row] = await runScenarioOnTarget(churn, TARGETS['ws-baseline'], settings);
    expect(row?.measure).toBe('join+leave');
    expect(row?.rate).toBeGreaterThan(0);
    expect(row?.notes.join()).not.toMatch(/failed/);
    expectNoChildren();
  }, 60_000);
});

describe('starting servers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports why a server did not start, and leaves nothing running', async () => {
    const script = join(dir, 'broken.ts');
    writeFileSync(script, "throw new Error('boom: cannot listen');\n");
    const start = startServerNode({ label: 'broken#1', script, env: {}, readiness: 'ipc' });
    await expect(start).rejects.toThrow(ServerStartError);
    await expect(start).rejects.toThrow(/broken#1 exited \(1\) before serving: .*boom: cannot listen/);
    expectNoChildren();
  }, 30_000);

  it('reports a missing entry point without starting anything', async () => {
    const start = startServerNode({ label: 'x#1', script: join(dir, 'missing.ts'), env: {}, readiness: 'http' });
    await expect(start).rejects.toThrow(/missing.ts does not exist/);
  });

  it('starts and stops its own redis-server, never the one on 6379', async () => {
    const redis = await startRedis();
    expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(redis.url).not.toMatch(/:6379$/);
    await redis.stop();
    expectNoChildren();
  }, 20_000);

  it('says how to install redis-server when it is missing', async () => {
    const path = process.env.PATH;
    process.env.PATH = dir;
    try {
      await expect(startRedis()).rejects.toThrow(/apt-get install redis-server/);
    } finally {
      process.env.PATH = path;
    }
    expectNoChildren();
  });
});
