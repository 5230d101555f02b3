import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Direct children of `pid` (empty when none). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Every descendant of `pid`, depth first. */
export function descendantPids(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...descendantPids(child)]);
}

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Resolves once `check` holds, polling every 50 ms; rejects after `timeoutMs` naming `what` and, when given, the last
 * 4 KiB of `output()` (what the process under test printed), so a failure on a loaded machine is diagnosable.
 */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string, output?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      const printed = output === undefined ? '' : `\n--- its last output:\n${output().slice(-4096)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${printed}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
