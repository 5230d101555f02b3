import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, ProtocolClient, RedisServer, upgradeStatus, WatchedProcess } from '@rooms-kit/testing';

/**
 * A node and its shared store going away and back, with real processes: a gateway process (the real entry point),
 * a real redis-server started late or SIGSTOPped, real clients. Issue 13 items 9 and 10.
 */

const projectDir = fileURLToPath(new URL('..', import.meta.url));
/** Bound of every wait here: generous, for a loaded 2-core machine; only a failure waits that long. */
const WAIT_MS = 60_000;
const TEST_MS = 4 * WAIT_MS;

const processes: WatchedProcess[] = [];
const redises: RedisServer[] = [];
const clients: ProtocolClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.terminate()));
  for (const watched of processes.splice(0)) if (!watched.exit) watched.child.kill('SIGKILL');
  await Promise.all(processes.map((watched) => watched.exited));
  for (const redis of redises.splice(0)) {
    redis.resume();
    await redis.stop();
  }
});

/** The gateway entry point as a process on `port`, on Redis at `redisUrl`; its stderr is kept for failure messages. */
function runGateway(port: number, redisUrl: string): WatchedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectDir,
    env: { ...process.env, ROOMS_LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', ROOMS_REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watched = new WatchedProcess(child, `the gateway on port ${port}`);
  processes.push(watched);
  return watched;
}

/** The status `/readyz` (or another probe) answers, or null when nothing answers yet. Each probe is bounded. */
async function probe(port: number, path: string): Promise<number | null> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return null;
  }
}

/** Waits until `/readyz` answers `status`. */
function readyzIs(gateway: WatchedProcess, port: number, status: number): Promise<true> {
  return gateway.waitUntil(`/readyz on port ${port} to answer ${status}`, async () => (await probe(port, '/readyz')) === status || null, WAIT_MS, 50);
}

async function connect(port: number): Promise<ProtocolClient> {
  const client = await ProtocolClient.connect(`ws://127.0.0.1:${port}/v1`);
  clients.push(client);
  return client;
}

/** Two clients on the node: one creates a group, the other joins, a broadcast reaches it. */
async function serves(port: number, group: string): Promise<void> {
  const a = await connect(port);
  const b = await connect(port);
  await a.ok('create', { group });
  await b.ok('join', { group });
  await a.event('joined', { group });
  await a.ok('broadcast', { group, data: 'hello' });
  expect(await b.event('message', { group })).toMatchObject({ from: a.session, data: 'hello', offset: 1 });
}

describe('A node whose Redis is not there at start', () => {
  it('listens, /healthz 200, /readyz 503 and upgrades 503 while it waits, then serves once Redis answers', async () => {
    const port = await freePort();
    const redis = new RedisServer();
    redises.push(redis);
    redis.port = await freePort();
    const gateway = runGateway(port, redis.url);
    await gateway.waitUntil(`/healthz on port ${port} to answer 200`, async () => (await probe(port, '/healthz')) === 200 || null, WAIT_MS, 50);
    // Still waiting (nothing listens on the Redis port): several probes in a row say 503, and the process stays up.
    for (let i = 0; i < 5; i++) {
      expect(await probe(port, '/readyz')).toBe(503);
      expect(await upgradeStatus(`ws://127.0.0.1:${port}/v1`)).toBe(503);
    }
    expect(gateway.exit).toBeNull();
    await redis.start();
    await readyzIs(gateway, port, 200);
    await serves(port, 'late-redis');
  }, TEST_MS);

  it('a SIGTERM while it waits for Redis exits 0', async () => {
    const port = await freePort();
    const gateway = runGateway(port, `redis://127.0.0.1:${await freePort()}`);
    await gateway.waitUntil(`/healthz on port ${port} to answer 200`, async () => (await probe(port, '/healthz')) === 200 || null, WAIT_MS, 50);
    expect(await probe(port, '/readyz')).toBe(503);
    gateway.child.kill('SIGTERM');
    const exit = await gateway.exited;
    await gateway.outputEnded;
    expect(exit, gateway.output).toEqual({ code: 0, signal: null });
  }, TEST_MS);
});

describe('A node whose Redis stalls (SIGSTOP) without closing its connections', () => {
  it('/readyz turns 503 while Redis does not answer, and 200 again once it does; the node serves after', async () => {
    const redis = new RedisServer();
    redises.push(redis);
    await redis.start();
    const port = await freePort();
    const gateway = runGateway(port, redis.url);
    await readyzIs(gateway, port, 200);
    redis.pause();
    await readyzIs(gateway, port, 503);
    redis.resume();
    await readyzIs(gateway, port, 200);
    await serves(port, 'after-stall');
  }, TEST_MS);
});
