import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROCESS_READY_TIMEOUT_MS, WatchedProcess, waitUntil } from '@rooms-kit/testing';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function start(args: string[]): WatchedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new WatchedProcess(child, 'the chaos command');
}

/** True when nothing accepts connections on `port` any more. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('npm run chaos (the command)', () => {
  it('prints the usage for --help (exit 0) and refuses a bad option (exit 2)', async () => {
    const help = start(['--help']);
    expect(await help.exited).toEqual({ code: 0, signal: null });
    await help.outputEnded;
    expect(help.output).toContain('--short');
    const bad = start(['--rate', 'fast']);
    expect(await bad.exited).toEqual({ code: 2, signal: null });
    await bad.outputEnded;
    expect(bad.output).toContain('--rate must be an integer');
  });

  it('on Ctrl-C (SIGINT) stops Redis and every node it started, and exits 130', async () => {
    const run = start(['--short', '--seed', '1']);
    try {
      const ports = await run.waitUntil('the chaos command to say where it listens', () => {
        const match = /Redis on port (\d+); nodes on ports ([\d, ]+)/.exec(run.output);
        return match ? [Number(match[1]), ...(match[2] as string).split(', ').map(Number)] : null;
      }, PROCESS_READY_TIMEOUT_MS * 2);
      expect(ports).toHaveLength(4);
      for (const port of ports) expect(await refused(port)).toBe(false);
      run.child.kill('SIGINT');
      expect(await run.exited).toEqual({ code: 130, signal: null });
      await waitUntil('Redis and the nodes to be gone', async () => (await Promise.all(ports.map(refused))).every(Boolean), 10_000);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
