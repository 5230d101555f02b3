import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The module graph (metafile inputs, relative to the project root) and the output of bundling one source file. */
async function bundle(entry: string): Promise<{ inputs: string[]; text: string }> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const text = result.outputFiles[0]?.text ?? '';
  return { inputs: Object.keys(result.metafile.inputs), text };
}

describe('package entry points', () => {
  it('declares ./client and ./server (no . entry) and no side effects', async () => {
    const manifest = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as Record<string, unknown>;
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.exports).toEqual({ './client': './src/client.ts', './server': './src/server.ts' });
  });

  it('resolves the subpath entries by package name', async () => {
    const client = await import('@rooms-kit/protocol/client');
    const server = await import('@rooms-kit/protocol/server');
    expect(typeof client.decodeServerFrame).toBe('function');
    expect(typeof server.decodeRequest).toBe('function');
  });

  it('the client entry has what a client needs and nothing that validates requests', async () => {
    const client: Record<string, unknown> = await import('../src/client.js');
    for (const name of ['decodeServerFrame', 'encodeRequest', 'ProtocolError', 'CloseCode', 'OPS', 'PROTOCOL_PATH']) {
      expect(client[name], name).toBeDefined();
    }
    for (const name of ['decodeRequest', 'encodeReply', 'encodeMessageEvent']) expect(client[name], name).toBeUndefined();
  });

  it('the server entry has decodeRequest and every server encoder', async () => {
    const server: Record<string, unknown> = await import('../src/server.js');
    for (const name of ['decodeRequest', 'encodeReply', 'encodeErrorReply', 'encodeEvent', 'encodeMessageEvent',
      'encodeMessageEventJson', 'encodeBatch', 'CloseCode', 'OPS']) {
      expect(server[name], name).toBeDefined();
    }
  });

  it('reaches only protocol and contract sources: no TypeBox, no server module', async () => {
    const { inputs, text } = await bundle('src/client.ts');
    expect(inputs).toContain('src/client/decode-server-frame.ts');
    expect(inputs.filter((path) => path.includes('typebox'))).toEqual([]);
    expect(inputs.filter((path) => path.includes('src/server/'))).toEqual([]);
    // Everything else is this package's shared or client modules and the contract lib.
    const foreign = inputs.filter((path) => !/^src\/(client\/)?[\w-]+\.ts$/.test(path) && !/\/contract\/src\/[\w-]+\.ts$/.test(path));
    expect(foreign).toEqual([]);
    expect(text).not.toContain('new Function');
  });

  it('the server entry does reach TypeBox (the check above can see it)', async () => {
    const { inputs } = await bundle('src/server.ts');
    expect(inputs.some((path) => path.includes('@sinclair/typebox'))).toBe(true);
  });
});
