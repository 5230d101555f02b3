import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type * as Sdk from '../src/index.js';
import { FakeServer, withTimeout } from './fake-server.js';

// The SDK as a browser gets it: its entry bundled and minified by esbuild. Small, free of the kernel and of any
// schema compiler, free of Node APIs, and still a working client.

const MAX_BYTES = 20 * 1024;
const root = fileURLToPath(new URL('..', import.meta.url));

let text: string;
let metafile: Metafile;
let dir: string;

beforeAll(async () => {
  const result = await build({
    entryPoints: ['src/index.ts'],
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  text = result.outputFiles[0]?.text ?? '';
  metafile = result.metafile;
  dir = await mkdtemp(join(tmpdir(), 'rooms-client-bundle-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the browser bundle of the SDK', () => {
  it(`is at most ${MAX_BYTES} bytes minified`, () => {
    expect(text.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('contains no xstate, no TypeBox and nothing of the kernel', () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain('src/rooms-client.ts'); // the check below would see a path of this form
    expect(inputs.filter((path) => /xstate|@sinclair\/typebox|rooms-core|@rooms-kit\/core/.test(path))).toEqual([]);
    // Only the SDK's, the protocol's and the contract's own sources: no package from node_modules at all.
    expect(inputs.filter((path) => path.includes('node_modules'))).toEqual([]);
  });

  it('imports nothing and uses no Node-only API', () => {
    for (const output of Object.values(metafile.outputs)) expect(output.imports).toEqual([]);
    expect(text).not.toMatch(/["'`]node:/);
    for (const name of ['Buffer', 'process', 'require', '__dirname', '__filename', 'setImmediate']) {
      expect(text, name).not.toMatch(new RegExp(`(?<![\\w$.])${name}(?![\\w$])`));
    }
  });

  it('loads as a module and works: connects with a given WebSocket, creates, broadcasts, receives, closes', async () => {
    const file = join(dir, 'rooms-client.mjs');
    await writeFile(file, text);
    const sdk = (await import(pathToFileURL(file).href)) as typeof Sdk;
    expect(Object.keys(sdk).sort()).toEqual(['RoomsClient', 'RoomsClientError', 'backoffDelay']);

    const server = await FakeServer.start();
    const client = new sdk.RoomsClient({ url: server.url, WebSocket, reconnect: { enabled: false } });
    try {
      const welcome = await withTimeout(client.connect(), 5000, 'welcome');
      expect(welcome.resumed).toBe(false);
      expect(client.state).toBe('open');
      const { group } = await withTimeout(client.create({ group: 'room' }), 5000, 'create');
      const received = new Promise<unknown>((resolve) => client.on('message', (message) => resolve(message.data)));
      await withTimeout(client.broadcast(group, { hello: 'bundle' }, { self: true }), 5000, 'broadcast');
      expect(await withTimeout(received, 5000, 'message')).toEqual({ hello: 'bundle' });
      const refused = await client.join('no such group!').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(sdk.RoomsClientError);
    } finally {
      await withTimeout(client.close(), 5000, 'close');
      await server.stop();
    }
    expect(client.state).toBe('closed');
  });
});
