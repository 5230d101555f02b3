import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer, WatchedProcess } from '../src/index.js';

const started: WatchedProcess[] = [];
afterEach(async () => {
  for (const watched of started.splice(0)) {
    if (!watched.exit) watched.child.kill('SIGKILL');
    await watched.exited;
  }
});

/** Runs `script` in a fresh node, its stdout and stderr piped. */
function node(script: string): WatchedProcess {
  const watched = new WatchedProcess(spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] }), 'the script');
  started.push(watched);
  return watched;
}

describe('WatchedProcess', () => {
  it('resolves with the first truthy value of the check', async () => {
    const watched = node('console.log("listening"); setInterval(() => {}, 1000)');
    expect(await watched.waitUntil('the script to listen', () => watched.output.includes('listening') && 'yes', 10_000, 10)).toBe('yes');
    expect(watched.exit).toBeNull();
  });

  it('fails at once when the process exits, with how it ended and its last output', async () => {
    const watched = node('console.log("starting"); console.error("boom: no config"); process.exit(3)');
    const startedAt = Date.now();
    const failure = watched.waitUntil('the script to be ready', () => false, 30_000, 10);
    await expect(failure).rejects.toThrow(/the script exited \(code 3\) while waiting for the script to be ready\n--- last output of the script:\n[^]*boom: no config/);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(await watched.exited).toEqual({ code: 3, signal: null });
  });

  it('times out naming what it waited for, the last check error and the output of the still running process', async () => {
    const watched = node('console.error("still warming up"); setInterval(() => {}, 1000)');
    await watched.waitUntil('the first line', () => watched.output !== '', 10_000, 10);
    const check = (): boolean => {
      throw new Error('connection refused');
    };
    await expect(watched.waitUntil('port 1 to answer', check, 50, 10)).rejects.toThrow(
      /timed out after 50 ms waiting for port 1 to answer; the script is still running \(last check: connection refused\)\n--- last output of the script:\nstill warming up/,
    );
  });

  it('keeps only the tail of a long output', async () => {
    const watched = node('process.stdout.write("a".repeat(20000) + "END")');
    await watched.outputEnded;
    expect(watched.output.length).toBeLessThanOrEqual(8192);
    expect(watched.output.endsWith('END')).toBe(true);
  });
});

describe('RedisServer start failures', () => {
  it('reject at once with redis-server\'s own words', async () => {
    const server = new RedisServer(['--no-such-directive', 'yes']);
    try {
      await expect(server.start()).rejects.toThrow(/redis-server on port \d+ exited \(code 1\) while waiting for redis-server to answer PING[^]*no-such-directive/);
    } finally {
      await server.stop();
    }
  });
});
