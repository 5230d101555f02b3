import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtManifest, COMPILED_DIR } from './built-manifest.js';
import type { BuiltExport } from './built-manifest.js';
import { compile } from './compile.js';
import { buildDirOf, readManifest, workspacePackages, WORKSPACE_ROOT } from './workspace.js';
import type { Manifest } from './workspace.js';

/** The files every published package carries besides its compiled code: from the lib, then from the root. */
const LIB_FILES = ['README.md'];
const ROOT_FILES = ['LICENSE'];

/** The version in the build output of each workspace package, or null for one without build output. */
function builtVersions(root: string): Map<string, string | null> {
  return new Map(
    workspacePackages(root).map(({ name, dir }) => {
      const built = join(root, 'dist', dir);
      return [name, existsSync(join(built, 'package.json')) ? readManifest(built).version : null];
    }),
  );
}

/**
 * Builds the publishable lib in `projectDir` into `dist/<its path>` (replacing what was there): its sources compiled
 * by its `tsconfig.build.json` to ESM `.js`, `.d.ts` and declaration maps under `dist/`, the package.json of
 * {@link builtManifest}, its README.md and the root's LICENSE. The workspace dependencies must be built first.
 * Throws (after the compiler's messages) when anything is missing or wrong; returns the written manifest.
 */
export function buildLibrary(projectDir: string, root: string = WORKSPACE_ROOT): Manifest {
  const outRoot = buildDirOf(projectDir, root);
  const manifest = builtManifest(readManifest(projectDir), builtVersions(root));
  const copies = [
    ...LIB_FILES.map((file) => ({ from: join(projectDir, file), to: join(outRoot, file) })),
    ...ROOT_FILES.map((file) => ({ from: join(root, file), to: join(outRoot, file) })),
  ];
  for (const { from } of copies) if (!existsSync(from)) throw new Error(`${from} is missing: every package ships it`);

  rmSync(outRoot, { recursive: true, force: true });
  mkdirSync(outRoot, { recursive: true });
  compile(join(projectDir, 'tsconfig.build.json'), join(outRoot, COMPILED_DIR));
  for (const target of Object.values(manifest['exports'] as Record<string, BuiltExport | string>)) {
    if (typeof target === 'string') continue;
    for (const file of [target.types, target.default]) {
      if (!existsSync(join(outRoot, file))) throw new Error(`${manifest.name}: export file ${file} was not emitted`);
    }
  }
  writeFileSync(join(outRoot, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const { from, to } of copies) copyFileSync(from, to);
  return manifest;
}
