import { parseArgs } from 'node:util';

/** The faults of a run, in the order they are injected when all are asked for. */
export const FAULTS = ['kill', 'stop', 'redis', 'drain'] as const;

/**
 * One fault: `kill` SIGKILLs a node (its clients resume on the others) and restarts it; `stop` SIGSTOPs a node for
 * {@link ChaosOptions.stallMs} then SIGCONTs it; `redis` SIGKILLs Redis and restarts it empty; `drain` SIGTERMs a
 * node (it drains, its clients resume elsewhere) and restarts it.
 */
export type FaultName = (typeof FAULTS)[number];

/** What a chaos run does. Every bound is generous: a wait that runs out is a finding, not a hiccup. */
export interface ChaosOptions {
  /** SDK clients, spread over the nodes; each is in one group. At least 2 per group. */
  clients: number;
  /** Groups (`chaos-0`, `chaos-1`, …); client i is in group i mod groups. */
  groups: number;
  /** Broadcasts per second, all clients together (each broadcast from one client, round robin). */
  rate: number;
  /** Seconds of steady traffic before the first fault and after each fault has settled. */
  durationSeconds: number;
  /** The faults, in order (each once). */
  phases: FaultName[];
  /** Seed of the choices (which node gets which fault, where each client connects first): a run can be repeated. */
  seed: number;
  /** How long a `stop` fault keeps the node stopped (the 4 s: longer than the 3 s node liveness). */
  stallMs: number;
  /** Bound of each wait for the view to converge after a fault. */
  convergeMs: number;
  /** Bound of the whole run: past it, everything is stopped and the run fails. */
  deadlineMs: number;
  /** The nodes' output goes to this terminal (else it is kept quiet). */
  nodeLogs: boolean;
}

/** The full run: the original black-box run's load (60 clients in 6 groups, 500 msgs/s), a few minutes. */
export const FULL_OPTIONS: Readonly<Omit<ChaosOptions, 'seed'>> = {
  clients: 60,
  groups: 6,
  rate: 500,
  durationSeconds: 10,
  phases: [...FAULTS],
  stallMs: 4000,
  convergeMs: 30_000,
  deadlineMs: 10 * 60_000,
  nodeLogs: false,
};

/** The short run of CI (`--short`): every fault, a lighter load, about a minute. */
export const SHORT_OPTIONS: Readonly<Omit<ChaosOptions, 'seed'>> = {
  ...FULL_OPTIONS,
  clients: 12,
  groups: 3,
  rate: 100,
  durationSeconds: 3,
  deadlineMs: 4 * 60_000,
};

/** The text of `--help`. */
export const USAGE = `Usage: npm run chaos -- [options]
  --short               the CI form: 12 clients, 3 groups, 100 msgs/s, 3 s per phase (about a minute)
  --clients <n>         SDK clients, each in one group (default 60; --short 12)
  --groups <n>          groups (default 6; --short 3)
  --rate <n>            broadcasts per second in total (default 500; --short 100)
  --duration <seconds>  steady traffic before the first fault and after each one (default 10; --short 3)
  --phases <list>       faults in order, from ${FAULTS.join(',')} (default: all)
  --seed <n>            seed of the choices, to repeat a run (default: random, printed)
  --node-logs           show the gateway nodes' output
  --help`;

/** A parsed command line: the options, or a request for the usage text. */
export type ParsedCommand = { help: true } | { help: false; options: ChaosOptions };

/**
 * Parses the command line (`--name value` or `--name=value`). Throws an Error with a readable message (and the
 * usage) on an unknown option or a bad value. `randomSeed` supplies the seed when `--seed` is absent.
 */
export function parseChaosArgs(argv: readonly string[], randomSeed: () => number): ParsedCommand {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, { cause: error });
  }
  const { values } = parsed;
  if (values.help) return { help: true };
  const base = values.short ? SHORT_OPTIONS : FULL_OPTIONS;
  const options: ChaosOptions = {
    ...base,
    phases: values.phases === undefined ? [...base.phases] : faultList(values.phases),
    clients: integer('clients', values.clients, base.clients, 2, 10_000),
    groups: integer('groups', values.groups, base.groups, 1, 1000),
    rate: integer('rate', values.rate, base.rate, 1, 20_000),
    durationSeconds: integer('duration', values.duration, base.durationSeconds, 1, 3600),
    seed: integer('seed', values.seed, randomSeed(), 0, 2 ** 32 - 1),
    nodeLogs: values['node-logs'] ?? false,
  };
  if (options.clients < 2 * options.groups) {
    throw new Error(`--clients must be at least twice --groups (a sender and a receiver per group)\n${USAGE}`);
  }
  return { help: false, options };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      short: { type: 'boolean' },
      clients: { type: 'string' },
      groups: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      phases: { type: 'string' },
      seed: { type: 'string' },
      'node-logs': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${text}"\n${USAGE}`);
  }
  return value;
}

function faultList(text: string): FaultName[] {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const faults: FaultName[] = [];
  for (const name of names) {
    if (!(FAULTS as readonly string[]).includes(name)) throw new Error(`--phases: unknown fault "${name}" (known: ${FAULTS.join(', ')})\n${USAGE}`);
    if (faults.includes(name as FaultName)) throw new Error(`--phases: "${name}" is listed twice\n${USAGE}`);
    faults.push(name as FaultName);
  }
  return faults;
}
