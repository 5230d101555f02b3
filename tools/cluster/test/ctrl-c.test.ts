import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, PROCESS_READY_TIMEOUT_MS, ProtocolClient, waitUntil, WatchedProcess } from '@rooms-kit/testing';

/**
 * `npm run cluster` stopped with Ctrl-C (issue 13 item 9): the launcher as a real process in its own process group,
 * its nodes holding a client session with a resume window far longer than the test's bound, so a stop that waited
 * out the window would fail the test.
 */

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
/** Bound of each wait: generous for a loaded machine, far below the nodes' resume window. */
const WAIT_MS = 60_000;
const RESUME_WINDOW_MS = 600_000;

const launched: WatchedProcess[] = [];
const clients: ProtocolClient[] = [];
/** Every process the launchers started, killed after the test in case it left some. */
const descendants = new Set<number>();

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.terminate()));
  for (const watched of launched.splice(0)) if (!watched.exit && watched.child.pid) process.kill(-watched.child.pid, 'SIGKILL');
  for (const pid of descendants) if (alive(pid)) process.kill(pid, 'SIGKILL');
  descendants.clear();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids of every process below `root`, from `ps`. */
function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const line of execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid === undefined || ppid === undefined || Number.isNaN(pid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** Starts the launcher with `command` in its own process group and waits until it says the cluster is up. */
async function launch(command: string, args: string[]): Promise<{ launcher: WatchedProcess; basePort: number }> {
  const basePort = await freePort();
  const child = spawn(command, [...args, 'tools/cluster/src/main.ts', '2', '--base-port', String(basePort)], {
    cwd: repoRoot,
    env: { ...process.env, ROOMS_LOG_LEVEL: 'warn', ROOMS_RESUME_WINDOW_MS: String(RESUME_WINDOW_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const launcher = new WatchedProcess(child, 'the cluster launcher');
  launched.push(launcher);
  await launcher.waitUntil('the cluster to be up', () => launcher.output.includes('Ctrl-C to stop'), 2 * PROCESS_READY_TIMEOUT_MS);
  for (const pid of descendantsOf(child.pid as number)) descendants.add(pid);
  return { launcher, basePort };
}

/** A client with a session in a group on the first node: the drain of that node has a session to wait for. */
async function holdSession(basePort: number): Promise<void> {
  const client = await ProtocolClient.connect(`ws://127.0.0.1:${basePort}/v1`);
  clients.push(client);
  await client.ok('create', { group: 'held' });
}

async function expectStoppedCleanly(launcher: WatchedProcess, sent: string): Promise<void> {
  const exit = await Promise.race([launcher.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), WAIT_MS).unref())]);
  await Promise.race([launcher.outputEnded, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  expect(exit, `the launcher after ${sent}; its output:\n${launcher.output}`).toEqual({ code: 0, signal: null });
  expect(descendants.size).toBeGreaterThanOrEqual(3);
  // Exited children are reaped by init once the launcher is gone: bounded wait, then none may be left.
  await waitUntil('every process the launcher started to be gone', () => [...descendants].every((pid) => !alive(pid)), WAIT_MS, 50).catch(() => undefined);
  expect([...descendants].filter(alive)).toEqual([]);
}

describe('npm run cluster on Ctrl-C', () => {
  it('a SIGINT to its whole process group (a terminal Ctrl-C, through tsx) stops it promptly and exits 0', async () => {
    const { launcher, basePort } = await launch(tsx, []);
    await holdSession(basePort);
    process.kill(-(launcher.child.pid as number), 'SIGINT');
    await expectStoppedCleanly(launcher, 'a SIGINT to its process group');
  }, 4 * WAIT_MS);

  it('a SIGINT to the launcher alone stops it promptly and exits 0', async () => {
    const { launcher, basePort } = await launch(process.execPath, ['--import', 'tsx']);
    await holdSession(basePort);
    launcher.child.kill('SIGINT');
    await expectStoppedCleanly(launcher, 'a SIGINT to the launcher');
  }, 4 * WAIT_MS);
});
