import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childEnv, loadFile, tsxImportArgs } from '../paths.js';
import type { StatsReply, StatsRequest } from '../servers/stats-agent.js';
import { stopChild, track } from './children.js';
import { freePort } from '@rooms-kit/testing';
import { processCpuMicros, processRssBytes } from './proc-stats.js';

/** How to start one server process. */
export interface ServerLaunch {
  /** For messages: `rooms#1`, `socketio#2`… */
  label: string;
  /** The TypeScript entry point. */
  script: string;
  /** Environment on top of ours; PORT and HOST are added. */
  env: Record<string, string>;
  /** `ipc`: the server sends `{type:'bench:ready'}` (our peers); `http`: GET /readyz answers 200 (the gateway). */
  readiness: 'ipc' | 'http';
  /** When set, the server runs with `--cpu-prof` and writes its profiles into `<profile.dir>/<profile.name>/` on stop. */
  profile?: { dir: string; name: string };
}

/** A running server process and how to measure it. */
export interface ServerNode {
  label: string;
  pid: number;
  /** `ws://127.0.0.1:<port>` */
  url: string;
  /** CPU time so far (user + system, every thread), µs, from /proc. */
  cpuMicros(): number;
  /** Resident set size now, bytes, from /proc. */
  rssBytes(): number;
  /** Heap figures from the preloaded stats agent (after a full GC when `gc`), or undefined when it did not answer. */
  memory(gc: boolean): Promise<StatsReply | undefined>;
  stop(): Promise<void>;
}

/** Raised when a server does not come up; the message says why (with the end of its stderr). */
export class ServerStartError extends Error {}

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts a server as its own process (`node --expose-gc --import tsx --import stats-agent <script>`) on a free port
 * of 127.0.0.1 and resolves once it serves. The process is tracked, so the exit hooks kill it.
 */
export async function startServerNode(launch: ServerLaunch): Promise<ServerNode> {
  if (!existsSync(launch.script)) throw new ServerStartError(`${launch.script} does not exist`);
  const port = await freePort();
  const agent = pathToFileURL(loadFile('servers/stats-agent.ts')).href;
  const child: ChildProcess = track(
    fork(launch.script, [], {
      execArgv: ['--expose-gc', ...profileArgs(launch.profile), ...tsxImportArgs(), '--import', agent],
      env: childEnv({ ...launch.env, PORT: String(port), HOST: '127.0.0.1' }),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  let stderr = '';
  const keep = (chunk: Buffer): void => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  };
  child.stderr?.on('data', keep);
  child.stdout?.on('data', keep);
  child.on('error', () => {});

  try {
    await waitUntilReady(child, launch, port, () => stderr);
  } catch (e) {
    await stopChild(child);
    throw e;
  }

  let nextId = 0;
  const pid = child.pid!;
  return {
    label: launch.label,
    pid,
    url: `ws://127.0.0.1:${port}`,
    cpuMicros: () => processCpuMicros(pid),
    rssBytes: () => processRssBytes(pid),
    memory: (gc) => askStats(child, ++nextId, gc),
    stop: () => (launch.profile ? exitGracefully(child) : stopChild(child)),
  };
}

/**
 * `--cpu-prof` flags for `profile`, or none. Each process gets its own directory: Node writes one profile per
 * thread (the tsx loader runs in a worker thread too), and the main thread's is the largest file there.
 */
export function profileArgs(profile: { dir: string; name: string } | undefined): string[] {
  if (!profile) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${join(profile.dir, profile.name)}`];
}

/** Asks the agent to exit normally (so a CPU profile gets written); SIGKILL after 15 s. */
async function exitGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send({ type: 'bench:exit' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function waitUntilReady(
  child: ChildProcess,
  launch: ServerLaunch,
  port: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  let exitReason = '';
  const onExit = (code: number | null, signal: string | null): void => {
    exited = true;
    exitReason = `exited (${code ?? signal}) before serving`;
  };
  child.once('exit', onExit);
  let ipcReady = false;
  const onMessage = (message: unknown): void => {
    if ((message as { type?: unknown } | null)?.type === 'bench:ready') ipcReady = true;
  };
  child.on('message', onMessage);
  try {
    while (Date.now() < deadline) {
      if (exited) throw new ServerStartError(`${launch.label} ${exitReason}: ${tail(stderr())}`);
      if (launch.readiness === 'ipc' ? ipcReady : await httpReady(port)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new ServerStartError(`${launch.label} not serving after ${READY_TIMEOUT_MS / 1000} s: ${tail(stderr())}`);
  } finally {
    child.off('exit', onExit);
    child.off('message', onMessage);
  }
}

/** The last meaningful line of a process's output, for a one-line reason in the table. */
function tail(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at '));
  const errorLine = [...lines].reverse().find((l) => /error/i.test(l));
  return (errorLine ?? lines.at(-1) ?? 'no output').slice(0, 300);
}

/** GET /readyz is 200; a gateway without /readyz (404) counts as ready when GET /healthz is 200. */
async function httpReady(port: number): Promise<boolean> {
  const ready = await httpStatus(port, '/readyz');
  if (ready === 404) return (await httpStatus(port, '/healthz')) === 200;
  return ready === 200;
}

function httpStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.end();
  });
}

function askStats(child: ChildProcess, id: number, gc: boolean): Promise<StatsReply | undefined> {
  if (!child.connected) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(undefined), 5000);
    const onMessage = (message: unknown): void => {
      const reply = message as Partial<StatsReply> | null;
      if (reply?.type === 'bench:stats' && reply.id === id) finish(reply as StatsReply);
    };
    const finish = (reply: StatsReply | undefined): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    const request: StatsRequest = { type: 'bench:stats', id, gc };
    child.send(request);
  });
}
