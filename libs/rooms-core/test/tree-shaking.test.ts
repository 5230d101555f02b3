import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The sources of this package that end up in the bundle of a program made of `code` (paths relative to the root). */
async function bundledSources(code: string): Promise<string[]> {
  const result = await build({
    stdin: { contents: code, resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0];
  return Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path)
    .filter((path) => path.startsWith('src/'));
}

describe('the single entry and tree shaking', () => {
  it('declares no side effects', async () => {
    const manifest = JSON.parse(await readFile(`${root}package.json`, 'utf8')) as Record<string, unknown>;
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.exports).toEqual({ '.': './src/index.ts' });
  });

  it('a program that embeds the kernel carries none of the contract suite', async () => {
    const sources = await bundledSources("import { NodeManager } from '@rooms-kit/core'; new NodeManager({ delivery: { deliver() {} } }).start();");
    expect(sources).toContain('src/node/node-manager.ts');
    expect(sources.filter((path) => path.startsWith('src/port-contract/'))).toEqual([]);
  });

  it('a backend test that runs the suite gets it (the check above can see it)', async () => {
    const sources = await bundledSources("import { backendContract } from '@rooms-kit/core'; console.log(backendContract);");
    expect(sources).toContain('src/port-contract/backend-contract.ts');
    expect(sources).toContain('src/port-contract/session-store-cases.ts');
  });
});
