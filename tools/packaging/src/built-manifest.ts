import type { Manifest } from './workspace.js';

/** Fields of a source package.json that only the workspace uses: none of them is published. */
export const DEV_ONLY_FIELDS: readonly string[] = ['private', 'devDependencies', 'scripts', 'nx', 'workspaces'];

/** Where the compiled files sit inside a built package (the `outDir` of every `tsconfig.build.json`). */
export const COMPILED_DIR = 'dist';

/** One entry of a built package's `exports`: the declarations first, as TypeScript requires. */
export interface BuiltExport {
  types: string;
  default: string;
}

/**
 * The built entry for a source entry `./src/<path>.ts`: `./dist/<path>.d.ts` and `./dist/<path>.js`. Throws for
 * anything else, since a published package cannot point at TypeScript sources.
 */
export function builtExport(sourceTarget: string): BuiltExport {
  const match = /^\.\/src\/(.+)\.ts$/.exec(sourceTarget);
  if (match === null) throw new Error(`export target "${sourceTarget}" is not a ./src/*.ts file`);
  return { types: `./${COMPILED_DIR}/${match[1]}.d.ts`, default: `./${COMPILED_DIR}/${match[1]}.js` };
}

/**
 * What the builder knows of each workspace package a manifest may depend on: the version of its build output, or
 * null when it has none (not built yet, or never published). Names absent from the map are registry packages.
 */
export type WorkspaceVersions = ReadonlyMap<string, string | null>;

/**
 * The package.json published from `source`: every field but {@link DEV_ONLY_FIELDS}; `exports` rewritten to the
 * compiled files with `types` conditions (subpaths kept, `./package.json` added) and `main`/`types` for tools that
 * predate `exports`; each workspace dependency pinned to `^<its built version>`. Throws when a dependency is a
 * workspace package without build output (it could not be installed) or when `exports` is not a map of `./src/*.ts`.
 */
export function builtManifest(source: Manifest, workspace: WorkspaceVersions): Manifest {
  const sourceExports = source['exports'];
  if (typeof sourceExports !== 'object' || sourceExports === null || Array.isArray(sourceExports)) {
    throw new Error(`${source.name}: "exports" must map entry points to ./src/*.ts files`);
  }
  const exports: Record<string, BuiltExport | string> = {};
  for (const [entry, target] of Object.entries(sourceExports as Record<string, unknown>)) {
    if (typeof target !== 'string') throw new Error(`${source.name}: export "${entry}" must be a string`);
    exports[entry] = builtExport(target);
  }
  exports['./package.json'] = './package.json';
  const main = exports['.'];

  const built: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(source)) {
    if (DEV_ONLY_FIELDS.includes(field)) continue;
    if (field === 'exports') {
      if (typeof main === 'object') Object.assign(built, { main: main.default, types: main.types });
      built['exports'] = exports;
    } else if (field === 'dependencies') {
      built['dependencies'] = pinnedDependencies(source.name, value as Record<string, string>, workspace);
    } else {
      built[field] = value;
    }
  }
  return built as Manifest;
}

function pinnedDependencies(
  owner: string,
  dependencies: Record<string, string>,
  workspace: WorkspaceVersions,
): Record<string, string> {
  const pinned: Record<string, string> = {};
  for (const [name, range] of Object.entries(dependencies)) {
    if (!workspace.has(name)) {
      pinned[name] = range;
      continue;
    }
    const version = workspace.get(name);
    if (version == null) {
      throw new Error(
        `${owner} depends on ${name}, a workspace package with no build output: build it first (Nx does, through ` +
          `"dependsOn": ["^build"]), or it is not publishable (test infrastructure, tools)`,
      );
    }
    pinned[name] = `^${version}`;
  }
  return pinned;
}
