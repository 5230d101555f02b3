import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, PROCESS_READY_TIMEOUT_MS, ProtocolClient, WatchedProcess } from '@rooms-kit/testing';
import { cleanup, track } from './support/harness.js';

const projectDir = fileURLToPath(new URL('..', import.meta.url));
const started: WatchedProcess[] = [];

afterEach(async () => {
  await cleanup();
  for (const watched of started.splice(0)) if (!watched.exit) watched.child.kill('SIGKILL');
});

/** Runs the real entry point (`node --import tsx src/main.ts`) with `env`; its stderr is kept for failure messages. */
function runMain(env: Record<string, string>): WatchedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectDir,
    env: { ...process.env, ROOMS_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const watched = new WatchedProcess(child, 'the gateway process');
  started.push(watched);
  return watched;
}

describe('The entry point as a process', () => {
  it('serves, and on SIGTERM drains (clients get 1001) and exits 0', async () => {
    const port = await freePort();
    const gateway = runMain({ PORT: String(port), HOST: '127.0.0.1' });
    const readyz = async (): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) })).status === 200;
    await gateway.waitUntil(`the gateway on port ${port} to be ready`, readyz);
    const client = track(await ProtocolClient.connect(`ws://127.0.0.1:${port}/v1`));
    await client.ok('create', { group: 'g' });
    gateway.child.kill('SIGTERM');
    expect((await client.closedWithin(5000)).code).toBe(1001);
    expect((await gateway.exited).code).toBe(0);
  }, PROCESS_READY_TIMEOUT_MS + 30_000);

  it('exits 1 naming the variable when the environment is wrong', async () => {
    const gateway = runMain({ ROOMS_MAX_PAYLOAD: 'lots' });
    expect((await gateway.exited).code).toBe(1);
    await gateway.outputEnded;
    expect(gateway.output).toContain('ROOMS_MAX_PAYLOAD');
  }, PROCESS_READY_TIMEOUT_MS + 30_000);
});
