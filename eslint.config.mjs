// Lint for every project: typescript-eslint's recommended rules plus Nx module boundaries.
// Tags (in each project.json): contract depends on nothing at all; rooms-core and protocol only on contract (so the
// browser SDK, which depends on protocol and contract, never carries the kernel); rooms-redis on core; the gateway
// on the libs; tools on anything. `testing` (test infrastructure: Redis processes,
// free ports) depends on nothing of ours and may be used by the tests of redis, gateway and tools.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.nx/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:contract', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['scope:contract'] },
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:protocol', onlyDependOnLibsWithTags: ['scope:contract'] },
            { sourceTag: 'scope:redis', onlyDependOnLibsWithTags: ['scope:contract', 'scope:core', 'scope:testing'] },
            { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:contract', 'scope:protocol'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:contract', 'scope:core', 'scope:protocol', 'scope:redis', 'scope:testing'] },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['scope:contract', 'scope:core', 'scope:protocol', 'scope:redis', 'scope:client', 'scope:gateway', 'scope:testing', 'scope:tools'] }
          ]
        }
      ]
    }
  },
  {
    // The browser SDK takes the protocol only through its client entry: the server entry carries the schema compiler.
    files: ['libs/client/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@rooms-kit/protocol', message: 'Import @rooms-kit/protocol/client: the SDK must not carry the server-side validation.' },
            { name: '@rooms-kit/protocol/server', message: 'Import @rooms-kit/protocol/client: the SDK must not carry the server-side validation.' },
          ],
        },
      ],
    },
  },
  {
    // Examples import their own project by its package name, exactly as a user's program would.
    files: ['**/examples/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' }
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } }
  }
);
