// Bundles the gateway for production: `node build.mjs` writes /dist/apps/gateway/main.js at the workspace root,
// run with `node dist/apps/gateway/main.js`. Our own `@rooms-kit/*` packages export TypeScript sources, so they are
// bundled; every other package stays external and is loaded from node_modules at run time.
import { build } from 'esbuild';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

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

await build({
  entryPoints: [fileURLToPath(new URL('./src/main.ts', import.meta.url))],
  outfile: `${root}dist/apps/gateway/main.js`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  plugins: [externalDependencies],
  // Some CommonJS code may call `require`; ESM output has none unless we make one.
  banner: { js: "import { createRequire as __roomsCreateRequire } from 'node:module';\nconst require = __roomsCreateRequire(import.meta.url);" },
  logLevel: 'info',
});
