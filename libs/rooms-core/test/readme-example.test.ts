import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url);
const exampleUrl = new URL('../examples/embedded.ts', import.meta.url);

describe('README embedding example', () => {
  it('is the same code as examples/embedded.ts', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    const block = /## Embedding the kernel[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toBe(readFileSync(exampleUrl, 'utf8'));
  });

  it('runs as written and prints what the README says', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', exampleUrl.pathname], { cwd: new URL('.', root).pathname });
    expect(stdout).toContain('-> bob: {"ev":"message","group":"lobby","from":"alice","data":{"text":"hi bob"},"offset":1}');
    expect(stdout).toContain('recipients=1 offset=1');
    expect(stdout).toContain('members: alice,bob');
    expect(stdout).toContain('bob joins vip: FORBIDDEN');
  });
});
