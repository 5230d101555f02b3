import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadFile, tsxImportArgs } from '../src/load/paths.js';
import { descendantPids, isAlive, waitFor } from './support.js';

/** How long the benchmark's processes may take to start. */
const START_MS = 60_000;

describe('npm run bench on Ctrl-C', () => {
  it('kills every process it started and exits 130', async () => {
    const bench = spawn(
      process.execPath,
      [...tsxImportArgs(), loadFile('main.ts'), '--scenario', 'fanout100', '--targets', 'ws-baseline', '--duration', '30'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    bench.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => bench.once('exit', (code) => resolve(code)));
    // Wait until the server and the client drivers run (the load has started), then interrupt. The bounds are for a
    // loaded 2-core machine, where starting `node --import tsx` processes can take many seconds.
    await waitFor(() => stderr.includes('connecting 100 members'), START_MS, 'the benchmark to start its processes', () => stderr);
    await waitFor(() => descendantPids(bench.pid!).length >= 3, START_MS, 'a server and two drivers', () => stderr);
    const started = descendantPids(bench.pid!);
    bench.kill('SIGINT');
    expect(await exited).toBe(130);
    await waitFor(() => started.every((pid) => !isAlive(pid)), 30_000, 'every started process to be gone', () => stderr);
    expect(stderr).toContain('SIGINT: stopping every process the benchmark started');
  }, 2 * START_MS + 60_000);
});
