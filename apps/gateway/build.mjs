// Builds the gateway's production directory, dist/apps/gateway (at the workspace root), which runs by itself, where
// it is or copied anywhere: `node main.js` (or `npm start`) in it. It holds
// - main.js (+ map): the gateway bundled by esbuild. Our own `@rooms-kit/*` packages export TypeScript sources, so
//   they are bundled; every other package stays an import, loaded from node_modules at run time;
// - package.json: its `dependencies` are exactly the packages the bundle imports, read from esbuild's metafile, each
//   at the version installed in the workspace (what the tests ran against);
// - README.md, LICENSE, and node_modules with those dependencies, installed by npm (preferring its local cache).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const projectDir = fileURLToPath(new URL('.', import.meta.url));
const outDir = join(root, 'dist/apps/gateway');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** Marks bare imports external, except our workspace packages. */
const externalDependencies = {
  name: 'external-dependencies',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@rooms-kit/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** `@scope/name/sub/path` -> `@scope/name`; `name/sub` -> `name`. */
function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The version of `name` that Node would load from `fromDir`: the first node_modules on the way up holding it. */
function installedVersion(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const manifest = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return readJson(manifest).version;
    if (dirname(dir) === dir) throw new Error(`${name}, imported from ${fromDir}, is not installed`);
  }
}

/**
 * The bundle's external packages with their installed versions, from the metafile's inputs (each import marked
 * external, Node's built-ins aside). One package imported at two versions by different files cannot be one
 * dependency of the bundle: that throws.
 */
function externalPackages(metafile) {
  const versions = new Map();
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    for (const { path, external } of imports) {
      if (!external || isBuiltin(path)) continue;
      const name = packageNameOf(path);
      const version = installedVersion(name, dirname(join(root, input)));
      const known = versions.get(name);
      if (known !== undefined && known !== version) throw new Error(`${name} is imported at ${known} and ${version}`);
      versions.set(name, version);
    }
  }
  return Object.fromEntries([...versions].sort(([a], [b]) => a.localeCompare(b)));
}

// Everything but node_modules is rewritten; keeping node_modules lets npm install only what changed.
mkdirSync(outDir, { recursive: true });
for (const entry of readdirSync(outDir)) {
  if (entry !== 'node_modules') rmSync(join(outDir, entry), { recursive: true, force: true });
}

const { metafile } = await build({
  absWorkingDir: root,
  entryPoints: [join(projectDir, 'src/main.ts')],
  outfile: join(outDir, 'main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  metafile: true,
  plugins: [externalDependencies],
  // Some CommonJS code may call `require`; ESM output has none unless we make one.
  banner: { js: "import { createRequire as __roomsCreateRequire } from 'node:module';\nconst require = __roomsCreateRequire(import.meta.url);" },
  logLevel: 'info',
});

const source = readJson(join(projectDir, 'package.json'));
const manifest = {
  name: source.name,
  version: source.version,
  description: source.description,
  license: source.license,
  private: true,
  type: 'module',
  main: 'main.js',
  scripts: { start: 'node main.js' },
  engines: source.engines,
  dependencies: externalPackages(metafile),
};
writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
copyFileSync(join(projectDir, 'README.md'), join(outDir, 'README.md'));
copyFileSync(join(root, 'LICENSE'), join(outDir, 'LICENSE'));

// `--prefix` pins npm to this directory even when it runs inside another npm command (`npm test`).
execFileSync('npm', ['install', '--prefix', outDir, '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], {
  cwd: outDir,
  stdio: 'inherit',
});
console.log(`gateway built in ${outDir}: node main.js (dependencies: ${Object.keys(manifest.dependencies).join(', ')})`);
