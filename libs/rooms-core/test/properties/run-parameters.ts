import fc from 'fast-check';

/** How many cases a property runs: `FC_NUM_RUNS` when set, else `defaultRuns`. */
export function runCount(defaultRuns: number): number {
  return numberFrom(process.env.FC_NUM_RUNS) ?? defaultRuns;
}

/** The `replayPath` of `fc.commands` given in `FC_REPLAY_PATH`, if any. */
export function replayPath(): { replayPath?: string } {
  return process.env.FC_REPLAY_PATH ? { replayPath: process.env.FC_REPLAY_PATH } : {};
}

/**
 * Runs `fc.assert` for `runCount(defaultRuns)` cases, with a seed drawn here (or given in `FC_SEED`, with `FC_PATH`).
 * On a failure fast-check's report names the seed, the path and the shrunk counterexample (commands by their
 * `toString`, with their `replayPath`); the error then ends with the environment that replays exactly that case:
 * `FC_SEED=… FC_PATH=… FC_REPLAY_PATH=… npx vitest run <file>`.
 */
export async function assertProperty<T>(property: fc.IAsyncProperty<T>, defaultRuns: number): Promise<void> {
  const seed = numberFrom(process.env.FC_SEED) ?? (Date.now() ^ (Math.random() * 0x1_0000_0000)) | 0;
  const parameters: fc.Parameters<T> = { seed, numRuns: runCount(defaultRuns) };
  if (process.env.FC_PATH) parameters.path = process.env.FC_PATH;
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    if (error instanceof Error) error.message += `\n\nReplay: ${replayCommand(error.message, seed)} npx vitest run <this file>`;
    throw error;
  }
}

/** The environment that replays the failure fast-check reported in `report` (its seed, path and replayPath). */
function replayCommand(report: string, seed: number): string {
  const path = /path: "([^"]*)"/.exec(report)?.[1];
  const commands = /replayPath="([^"]*)"/.exec(report)?.[1];
  return [`FC_SEED=${seed}`, path && `FC_PATH='${path}'`, commands && `FC_REPLAY_PATH='${commands}'`].filter(Boolean).join(' ');
}

function numberFrom(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isInteger(value) ? value : undefined;
}
