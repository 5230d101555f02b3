import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The kernel runs on any JavaScript runtime (Node, Deno, Bun, a browser, a worker): its sources use only the
// language, xstate, the contract lib and web-standard globals (timers, `crypto.randomUUID`, `TextEncoder`).
const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(projectDir, 'src');

/** Globals only Node (and runtimes that imitate it) define. */
const NODE_ONLY_GLOBALS = new Set(['Buffer', 'process', 'global', 'setImmediate', 'clearImmediate', 'require', '__dirname', '__filename']);
/** What the kernel's sources may import besides their own files. */
const ALLOWED_PACKAGES = new Set(['xstate', '@rooms-kit/contract']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** An identifier that names a variable (not `x.name`, not a property key, not a declaration's own name). */
function isReference(node: ts.Identifier): boolean {
  const parent = node.parent;
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false;
  if ((ts.isPropertySignature(parent) || ts.isPropertyDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isMethodDeclaration(parent)) && parent.name === node) return false;
  return !(ts.isQualifiedName(parent) && parent.right === node);
}

/** Where `file` uses a Node-only global or imports a module it may not, as `path:line: what`. */
function violations(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const at = (node: ts.Node, what: string): void => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    found.push(`${relative(projectDir, file)}:${line}: ${what}`);
  };
  const checkSpecifier = (node: ts.Node, specifier: string): void => {
    if (!specifier.startsWith('.') && !ALLOWED_PACKAGES.has(specifier)) at(node, `imports '${specifier}'`);
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      checkSpecifier(node, node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) checkSpecifier(node, argument.text);
      else at(node, 'imports a computed module');
    } else if (ts.isIdentifier(node) && NODE_ONLY_GLOBALS.has(node.text) && isReference(node)) {
      at(node, `uses the Node-only global ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the kernel is runtime-neutral', () => {
  const files = sourceFiles(srcDir);

  it('scans every source file', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.map((file) => relative(srcDir, file))).toContain(join('node', 'node-manager.ts'));
  });

  it('uses no Node-only global and imports no node: or other package but xstate and the contract', () => {
    expect(files.flatMap(violations)).toEqual([]);
  });

  it('the scan would see each kind of use (checked on a sample)', () => {
    const sample = join(projectDir, 'test', 'support', 'node-only-sample.txt');
    expect(violations(sample).map((line) => line.replace(/^.*?: /, ''))).toEqual([
      "imports 'node:events'",
      "imports 'node:fs'",
      'uses the Node-only global Buffer',
      'uses the Node-only global process',
      'uses the Node-only global setImmediate',
      'uses the Node-only global require',
    ]);
  });

  it('typechecks without @types/node: tsconfig.lib.json has no node types, and the typecheck target runs it', () => {
    const config = ts.readConfigFile(join(projectDir, 'tsconfig.lib.json'), ts.sys.readFile);
    expect(config.error).toBeUndefined();
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, projectDir);
    expect(parsed.options.types).toEqual([]);
    expect(parsed.options.lib?.some((lib) => /node/i.test(lib))).toBe(false);
    expect(parsed.fileNames.map((file) => relative(srcDir, file))).toEqual(expect.arrayContaining(files.map((file) => relative(srcDir, file))));
    const project = JSON.parse(readFileSync(join(projectDir, 'project.json'), 'utf8')) as { targets: { typecheck: { options: { command: string } } } };
    expect(project.targets.typecheck.options.command).toContain('tsc -p tsconfig.lib.json');
  });
});
