import { describe, expect, it } from 'vitest';
import { builtExport, builtManifest } from '../src/built-manifest.js';

const source = {
  name: '@rooms-kit/example',
  version: '0.3.0',
  private: true,
  description: 'An example',
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  exports: { '.': './src/index.ts', './client': './src/client.ts' },
  files: ['dist'],
  scripts: { test: 'vitest' },
  dependencies: { '@rooms-kit/contract': '*', xstate: '^5.33.3' },
  devDependencies: { '@rooms-kit/testing': '*', ws: '^8.23.0' },
};
const workspace = new Map<string, string | null>([
  ['@rooms-kit/contract', '0.2.1'],
  ['@rooms-kit/testing', null],
]);

describe('builtExport', () => {
  it('points a source entry at its compiled file and declarations, nested paths included', () => {
    expect(builtExport('./src/index.ts')).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(builtExport('./src/server/entry.ts')).toEqual({ types: './dist/server/entry.d.ts', default: './dist/server/entry.js' });
  });

  it('refuses a target that is not a TypeScript source under src', () => {
    expect(() => builtExport('./lib/index.js')).toThrow(/not a \.\/src\/\*\.ts file/);
    expect(() => builtExport('./src/index.d.ts.map')).toThrow();
  });
});

describe('builtManifest', () => {
  it('rewrites exports to the compiled files with types first, keeps subpaths and adds main, types and package.json', () => {
    const built = builtManifest(source, workspace);

    expect(built['exports']).toEqual({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './client': { types: './dist/client.d.ts', default: './dist/client.js' },
      './package.json': './package.json',
    });
    expect(Object.keys((built['exports'] as Record<string, object>)['.']!)).toEqual(['types', 'default']);
    expect(built).toMatchObject({ main: './dist/index.js', types: './dist/index.d.ts' });
  });

  it('drops the fields only the workspace uses and keeps every other one in its order', () => {
    const built = builtManifest(source, workspace);

    expect(Object.keys(built)).toEqual([
      'name', 'version', 'description', 'license', 'type', 'sideEffects', 'main', 'types', 'exports', 'files', 'dependencies',
    ]);
    expect(built).toMatchObject({ name: '@rooms-kit/example', version: '0.3.0', files: ['dist'], sideEffects: false });
  });

  it("pins workspace dependencies to their built version and keeps registry ones' ranges", () => {
    expect(builtManifest(source, workspace)['dependencies']).toEqual({ '@rooms-kit/contract': '^0.2.1', xstate: '^5.33.3' });
  });

  it('refuses a dependency on a workspace package without build output', () => {
    const onTesting = { ...source, dependencies: { '@rooms-kit/testing': '*' } };
    expect(() => builtManifest(onTesting, workspace)).toThrow(/depends on @rooms-kit\/testing.*no build output/);
  });

  it('refuses a manifest without an exports map of sources', () => {
    expect(() => builtManifest({ ...source, exports: './src/index.ts' }, workspace)).toThrow(/"exports" must map/);
    expect(() => builtManifest({ ...source, exports: { '.': { import: './src/index.ts' } } }, workspace)).toThrow(/must be a string/);
  });
});
