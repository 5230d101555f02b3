import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root (this file is `tools/packaging/src/workspace.ts`). */
export const WORKSPACE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A package.json as read from disk: only `name` and `version` are relied on everywhere. */
export type Manifest = { name: string; version: string } & Record<string, unknown>;

/** Reads and parses `<dir>/package.json`; throws naming the file when it has no string `name` and `version`. */
export function readManifest(dir: string): Manifest {
  const file = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (typeof manifest['name'] !== 'string' || typeof manifest['version'] !== 'string') {
    throw new Error(`${file}: a package needs a string "name" and "version"`);
  }
  return manifest as Manifest;
}

/** One package of the workspace: its name and its directory relative to the root (`libs/rooms-core`). */
export interface WorkspacePackage {
  name: string;
  dir: string;
}

/**
 * Every package the root's `workspaces` lists. Only the `<folder>/*` and plain-folder patterns the root uses are
 * understood; any other pattern throws rather than being silently skipped.
 */
export function workspacePackages(root: string = WORKSPACE_ROOT): WorkspacePackage[] {
  const patterns = (readManifest(root)['workspaces'] ?? []) as string[];
  const dirs = patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    if (/[*?{[]/.test(pattern.slice(0, -2))) throw new Error(`unsupported workspaces pattern "${pattern}"`);
    const parent = join(root, pattern.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`);
  });
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => ({ name: readManifest(join(root, dir)).name, dir }));
}

/** Where the build of the project in `projectDir` goes: `<root>/dist/<project path>` (`dist/libs/contract`). */
export function buildDirOf(projectDir: string, root: string = WORKSPACE_ROOT): string {
  const path = relative(root, resolve(projectDir));
  if (path === '' || path.startsWith('..')) throw new Error(`${projectDir} is not a project inside ${root}`);
  return join(root, 'dist', path);
}
