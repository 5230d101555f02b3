import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadFile, tsxImportArgs } from '../src/load/paths.js';
import { descendantPids, isAlive, waitFor } from './support.js';

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
    // Wait until the server and the client drivers run (the load has started), then interrupt.
    await waitFor(() => stderr.includes('connecting 100 members'), 30_000, 'the benchmark to start its processes');
    await waitFor(() => descendantPids(bench.pid!).length >= 3, 30_000, 'a server and two drivers');
    const started = descendantPids(bench.pid!);
    bench.kill('SIGINT');
    expect(await exited).toBe(130);
    await waitFor(() => started.every((pid) => !isAlive(pid)), 5000, 'every started process to be gone');
    expect(stderr).toContain('SIGINT: stopping every process the benchmark started');
  }, 60_000);
});
