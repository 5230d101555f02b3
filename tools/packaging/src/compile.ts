import { isAbsolute, relative, resolve } from 'node:path';
import ts from 'typescript';

const formatHost: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (fileName) => fileName,
  getCurrentDirectory: () => ts.sys.getCurrentDirectory(),
  getNewLine: () => ts.sys.newLine,
};

function failure(what: string, diagnostics: readonly ts.Diagnostic[]): Error {
  return new Error(`${what}:\n${ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost)}`);
}

function isInside(dir: string, file: string): boolean {
  const path = relative(dir, file);
  return path !== '' && !path.startsWith('..') && !isAbsolute(path);
}

/**
 * Type-checks and emits the project of `tsconfigPath` (a lib's `tsconfig.build.json`) into `expectedOutDir`, which
 * must be the config's `outDir` (so the config alone, run by hand with `tsc -p`, writes to the same place).
 *
 * Throws, emitting nothing, on any type error, and when a TypeScript source outside the config's `rootDir` is in the
 * program: that is a workspace dependency resolved to its sources through the npm workspace link because its build
 * output (which the config's `paths` point at) is missing; it would be checked against the wrong files and with the
 * wrong types (a browser lib against Node's).
 */
export function compile(tsconfigPath: string, expectedOutDir: string): void {
  const parsed = ts.getParsedCommandLineOfConfigFile(tsconfigPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw failure(tsconfigPath, [diagnostic]);
    },
  });
  if (parsed === undefined) throw new Error(`${tsconfigPath}: cannot be read`);
  if (parsed.errors.length > 0) throw failure(tsconfigPath, parsed.errors);
  const { outDir, rootDir } = parsed.options;
  if (outDir === undefined || rootDir === undefined || parsed.options.noEmit) {
    throw new Error(`${tsconfigPath}: set "rootDir" and "outDir", and "noEmit": false`);
  }
  if (resolve(outDir) !== resolve(expectedOutDir)) {
    throw new Error(`${tsconfigPath}: "outDir" must be ${relative(resolve(tsconfigPath, '..'), expectedOutDir)}`);
  }

  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const strays = program
    .getSourceFiles()
    .filter((file) => !file.isDeclarationFile && !isInside(resolve(rootDir), resolve(file.fileName)))
    .map((file) => file.fileName);
  if (strays.length > 0) {
    throw new Error(
      `${tsconfigPath}: sources outside "rootDir" were pulled in (a workspace dependency is not built, or "paths" ` +
        `misses it):\n  ${strays.join('\n  ')}`,
    );
  }
  const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) throw failure(`${tsconfigPath}: type errors`, errors);
  const emitted = program.emit();
  if (emitted.emitSkipped || emitted.diagnostics.length > 0) throw failure(`${tsconfigPath}: emit failed`, emitted.diagnostics);
}
