import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { stopChild, track } from './children.js';
import { freePort } from '@rooms-kit/testing';

/** A redis-server this run started: on a free port of 127.0.0.1, no persistence. */
export interface RedisProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Raised when redis-server is not installed. */
export class RedisMissingError extends Error {}

/**
 * Starts `redis-server --port <free> --save '' --appendonly no` (never the Redis on 6379) and resolves once it
 * accepts connections. Fails with `RedisMissingError` when the binary is not installed.
 */
export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  const child: ChildProcess = track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output.slice(-500)}`)), 10_000);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'ENOENT'
          ? new RedisMissingError('redis-server not found: install it (apt-get install redis-server)')
          : e,
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${output.slice(-500)}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  }).catch(async (e: unknown) => {
    await stopChild(child);
    throw e;
  });
  child.stdout?.resume();
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) };
}
