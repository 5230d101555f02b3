import { spawn } from 'node:child_process';

/** How a command ended: its exit code (null when killed) and everything it printed. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for a program that must run as a user's would, with plain `node`: the test runner's
 * `NODE_OPTIONS`/`NODE_PATH` (loaders, module paths) and any `ROOMS_*` setting of this shell are left out.
 */
export function plainEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === 'NODE_OPTIONS' || name === 'NODE_PATH' || name.startsWith('ROOMS_')) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs `command` with `args` in `cwd` and resolves once it exits, whatever its exit code. A command still running
 * after `timeoutMs` is killed (SIGKILL) with every process it started (it runs in a process group of its own: npm
 * spawns children that would outlive it), and the promise rejects with what it printed so far.
 */
export function runCommand(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: plainEnvironment(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      killGroup(child.pid);
      reject(new Error(`${command} ${args.join(' ')} took over ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** {@link runCommand}, rejecting with the command's output unless it exits 0; resolves with its stdout. */
export async function runChecked(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<string> {
  const result = await runCommand(command, args, cwd, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
