import type { ChildProcess } from 'node:child_process';
import { waitUntil } from './wait-until.js';

/**
 * How long a child process may take to become ready (start, load its code, listen, connect). Generous on purpose:
 * the tests share a 2-core machine with other builds and test runs (a load average of 7 has been seen), where a
 * `node --import tsx` start alone can take many seconds. A wait this long only costs time when something is broken.
 */
export const PROCESS_READY_TIMEOUT_MS = 60_000;

/** How a process ended: its exit code, or the signal that ended it. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How much of a process's output a {@link WatchedProcess} keeps for failure messages. */
const TAIL_CHARS = 8192;

/**
 * WatchedProcess: a child process seen from its owner: how it ended (`exited`, `exit`), the last 8 KiB of what it
 * printed on the streams that were piped (`output`), and {@link waitUntil}, a poll for readiness that fails at once
 * when the process exits and whose failures name what was awaited, how the process ended and its last output.
 * It only listens: stopping the process stays with the owner.
 */
export class WatchedProcess {
  /** Resolves once the process exited. */
  readonly exited: Promise<ProcessExit>;
  /**
   * Resolves once the process exited and its streams ended, so `output` holds the last of what it printed (`exited`
   * may come before that was read).
   */
  readonly outputEnded: Promise<void>;
  private exitState: ProcessExit | null = null;
  private tail = '';

  constructor(
    /** The process watched. */
    readonly child: ChildProcess,
    /** What to call it in messages ("redis-server", "the gateway on port 8081"). */
    readonly name: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitState = { code, signal };
        resolve(this.exitState);
      });
    });
    this.outputEnded = new Promise((resolve) => child.once('close', () => resolve()));
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.tail = (this.tail + chunk).slice(-TAIL_CHARS);
      });
    }
  }

  /** How the process ended, or null while it runs. */
  get exit(): ProcessExit | null {
    return this.exitState;
  }

  /** The last 8 KiB it printed on its piped streams (stdout and stderr interleaved as they came). */
  get output(): string {
    return this.tail;
  }

  /**
   * Polls `check` every `everyMs` until it returns a truthy value (resolved with it); an error thrown by `check`
   * counts as "not yet". Rejects at once when the process exits, and after `timeoutMs`, with a message naming `what`,
   * the process's state and its last output. `check` must itself be bounded (a fetch with a timeout signal, say).
   */
  waitUntil<T>(what: string, check: () => T | Promise<T>, timeoutMs = PROCESS_READY_TIMEOUT_MS, everyMs = 50): Promise<NonNullable<T>> {
    return waitUntil(what, check, timeoutMs, everyMs, {
      stopped: async (lastError) => {
        if (!this.exitState) return null;
        await this.outputRead();
        return new Error(`${this.name} exited (${describeExit(this.exitState)}) while waiting for ${what}${this.outputSection()}`, { cause: lastError });
      },
      detail: () => `; ${this.name} is still running`,
      suffix: () => this.outputSection(),
    });
  }

  /** Resolves once the streams ended after the exit, or after a second (a grandchild may hold them open). */
  private async outputRead(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)));
    await Promise.race([this.outputEnded, bound]);
    clearTimeout(timer);
  }

  /** The output part of a failure message: its last lines, or a note that nothing was captured. */
  private outputSection(): string {
    if (!this.child.stdout && !this.child.stderr) return ' (its output went elsewhere, not kept here)';
    return this.tail === '' ? ' (it printed nothing)' : `\n--- last output of ${this.name}:\n${this.tail}`;
  }
}

function describeExit(exit: ProcessExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
