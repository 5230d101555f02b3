/**
 * `tsx tools/packaging/src/build-lib.ts [dir]`: builds the publishable lib in `dir` (default: the current
 * directory, as each lib's Nx `build` target runs it) into `dist/<its path>`; see `buildLibrary`. Exits 1 with the
 * reason when the build fails.
 */
import { resolve } from 'node:path';
import { buildLibrary } from './library-build.js';

try {
  const manifest = buildLibrary(resolve(process.argv[2] ?? '.'));
  console.log(`built ${manifest.name}@${manifest.version}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
