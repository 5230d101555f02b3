import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '@rooms-kit/testing';
import { cleanup, eventually, track } from './support/harness.js';
import { TestClient } from './support/test-client.js';

const projectDir = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

afterEach(async () => {
  await cleanup();
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Runs the real entry point (`node --import tsx src/main.ts`) with `env`. */
function runMain(env: Record<string, string>): { child: ChildProcess; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectDir,
    env: { ...process.env, ROOMS_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

describe('The entry point as a process', () => {
  it('serves, and on SIGTERM drains (clients get 1001) and exits 0', async () => {
    const port = await freePort();
    const { child, exit } = runMain({ PORT: String(port), HOST: '127.0.0.1' });
    await eventually(
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
        } catch {
          return false;
        }
      },
      'the gateway to be ready',
      15_000,
    );
    const client = track(await TestClient.connect(`ws://127.0.0.1:${port}/v1`));
    await client.ok('create', { group: 'g' });
    child.kill('SIGTERM');
    expect((await client.closedWithin(5000)).code).toBe(1001);
    expect(await exit).toBe(0);
  }, 30_000);

  it('exits 1 naming the variable when the environment is wrong', async () => {
    const { exit, stderr } = runMain({ ROOMS_MAX_PAYLOAD: 'lots' });
    expect(await exit).toBe(1);
    expect(stderr()).toContain('ROOMS_MAX_PAYLOAD');
  }, 30_000);
});
