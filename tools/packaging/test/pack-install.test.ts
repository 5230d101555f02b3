// The publishable packages as a user gets them: the built contract, protocol, kernel and SDK packed with `npm pack`,
// installed from the tarballs into a project outside the workspace, and used by a plain `node` program that embeds
// the kernel and connects the SDK to the production gateway, itself copied out of the workspace and started there.
// The builds are not made here: `nx run packaging:test` (so `npm test`) runs them first (`dependsOn` in project.json).
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltExport } from '../src/built-manifest.js';
import { readManifest, WORKSPACE_ROOT } from '../src/workspace.js';
import { BuiltGateway } from './support/built-gateway.js';
import { runChecked, runCommand } from './support/run-command.js';

const PACKAGES = [
  { name: '@rooms-kit/contract', dir: 'libs/contract' },
  { name: '@rooms-kit/protocol', dir: 'libs/protocol' },
  { name: '@rooms-kit/core', dir: 'libs/rooms-core' },
  { name: '@rooms-kit/client', dir: 'libs/client' },
];
const GATEWAY_DIR = join(WORKSPACE_ROOT, 'dist/apps/gateway');
const CONSUMER_SCRIPT = fileURLToPath(new URL('./fixtures/consumer.mjs', import.meta.url));
const NPM_TIMEOUT_MS = 180_000;
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund'];

interface PackedFile {
  path: string;
}
interface PackReport {
  name: string;
  filename: string;
  files: PackedFile[];
}

let workDir: string | undefined;
/** The gateway's start, kept so that `afterAll` stops it even when a step before its `await` failed. */
let starting: Promise<BuiltGateway> | undefined;
let gateway: BuiltGateway | undefined;
const packed = new Map<string, PackReport>();

beforeAll(async () => {
  const missing = [...PACKAGES.map(({ dir }) => join(WORKSPACE_ROOT, 'dist', dir, 'package.json')), join(GATEWAY_DIR, 'main.js')]
    .filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`not built: ${missing.join(', ')}; run \`npx nx run packaging:test\`, which builds them first`);
  }
  workDir = mkdtempSync(join(tmpdir(), 'rooms-pack-install-'));
  const tarballs = join(workDir, 'tarballs');
  const consumer = join(workDir, 'consumer');
  const gatewayCopy = join(workDir, 'gateway');
  for (const dir of [tarballs, consumer]) mkdirSync(dir);

  // The gateway starts (in its copy, outside the workspace) while npm packs and installs.
  cpSync(GATEWAY_DIR, gatewayCopy, { recursive: true, verbatimSymlinks: true });
  starting = BuiltGateway.start(gatewayCopy);
  // Its failure is reported by the `await` below; until then it must not count as an unhandled rejection.
  starting.catch(() => undefined);

  const packOutput = await runChecked(
    'npm',
    ['pack', ...PACKAGES.map(({ dir }) => join(WORKSPACE_ROOT, 'dist', dir)), '--pack-destination', tarballs, '--json'],
    workDir,
    NPM_TIMEOUT_MS,
  );
  for (const report of JSON.parse(packOutput) as PackReport[]) packed.set(report.name, report);

  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'rooms-consumer', private: true, type: 'module' }));
  copyFileSync(CONSUMER_SCRIPT, join(consumer, 'consumer.mjs'));
  const ws = `ws@${readManifest(join(WORKSPACE_ROOT, 'node_modules/ws')).version}`;
  const specs = PACKAGES.map(({ name }) => {
    const report = packed.get(name);
    if (report === undefined) throw new Error(`npm pack reported no tarball for ${name}`);
    return join(tarballs, report.filename);
  });
  await runChecked('npm', ['install', '--prefix', consumer, ...NPM_FLAGS, ...specs, ws], consumer, NPM_TIMEOUT_MS);
  gateway = await starting;
});

afterAll(async () => {
  const started = await starting?.catch(() => undefined);
  await started?.stop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe('the packed tarballs', () => {
  it.each(PACKAGES)('$name holds its compiled code, README, LICENSE and package.json, no sources and no tests', ({ name, dir }) => {
    const report = packed.get(name);
    expect(report, `${name} was packed`).toBeDefined();
    const files = report!.files.map((file) => file.path).sort();
    const manifest = readManifest(join(WORKSPACE_ROOT, 'dist', dir));
    const entries = Object.values(manifest['exports'] as Record<string, BuiltExport | string>).filter(
      (target): target is BuiltExport => typeof target === 'object',
    );

    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
    for (const entry of entries) expect(files).toEqual(expect.arrayContaining([entry.types.slice(2), entry.default.slice(2)]));
    expect(files.filter((file) => !['LICENSE', 'README.md', 'package.json'].includes(file) && !file.startsWith('dist/'))).toEqual([]);
    expect(files.filter((file) => /\.ts$/.test(file) && !/\.d\.ts$/.test(file))).toEqual([]);
    expect(files.filter((file) => /(^|\/)(src|test|tests|__tests__)\/|\.test\.|\.spec\./.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.js')).length).toBeGreaterThan(0);
  });

  it.each(PACKAGES)('$name installs with a published manifest: no private flag, our packages pinned', ({ name, dir }) => {
    const installed = readManifest(join(workDir!, 'consumer/node_modules', name));
    const source = readManifest(join(WORKSPACE_ROOT, dir));

    expect(installed.version).toBe(source.version);
    expect(installed['license']).toBe('MIT');
    expect(installed).not.toHaveProperty('private');
    expect(installed).not.toHaveProperty('devDependencies');
    const dependencies = (installed['dependencies'] ?? {}) as Record<string, string>;
    for (const [dependency, range] of Object.entries(dependencies)) {
      if (dependency.startsWith('@rooms-kit/')) expect(range, dependency).toBe(`^${source.version}`);
      expect(range, dependency).not.toBe('*');
    }
    const declared = (source['dependencies'] ?? {}) as Record<string, string>;
    expect(Object.keys(dependencies).sort()).toEqual(Object.keys(declared).sort());
  });
});

describe('a plain node program using the installed packages', () => {
  it('embeds the kernel, and connects two SDK clients to the built gateway copied out of the workspace', async () => {
    const result = await runCommand(process.execPath, ['consumer.mjs', gateway!.url], join(workDir!, 'consumer'), 60_000);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [kernel, sdk] = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);

    expect(kernel).toMatchObject({ part: 'kernel', sent: { recipients: 1, offset: 1 } });
    expect(kernel!['delivered']).toContainEqual({
      to: 'bob',
      event: { ev: 'message', group: 'lobby', from: 'alice', data: { text: 'hi bob' }, offset: 1 },
    });
    const delivered = kernel!['delivered'] as Array<{ to: string; event: { ev: string } }>;
    expect(delivered.filter(({ to, event }) => to === 'alice' && event.ev === 'message')).toEqual([]);

    expect(sdk).toMatchObject({
      part: 'sdk',
      sent: { recipients: 1, offset: 1 },
      message: { ev: 'message', group: 'packed-lobby', data: { text: 'hi bob' }, offset: 1 },
    });
    expect((sdk!['message'] as { from: unknown }).from).toBe(sdk!['alice']);
  });
});
