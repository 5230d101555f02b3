import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The monorepo root (the benchmark works from any current directory). */
export const repoRoot = resolve(here, '../../../..');

/** The gateway's entry point: `node --import tsx <this>` starts one node configured by docs/protocol.md's env variables. */
export const gatewayEntry = join(repoRoot, 'apps/gateway/src/main.ts');

/** A file of the load benchmark by its path relative to src/load. */
export function loadFile(relative: string): string {
  return join(here, relative);
}

/** `--import` arguments that let a plain `node` run TypeScript sources: the tsx loader, resolved from here. */
export function tsxImportArgs(): string[] {
  const loader = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(loader).href];
}

/** The environment for a child: ours minus NODE_OPTIONS (a parent's loader flags must not leak in), plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}
