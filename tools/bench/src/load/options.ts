import { resolve } from 'node:path';
import { TARGET_NAMES } from './targets.js';
import type { TargetName } from './targets.js';

/** What `npm run bench -- …` asked for. */
export interface BenchOptions {
  /** A scenario name, a comma-separated list, or `all`. */
  scenario: string;
  /** Length of each measurement window, seconds. */
  durationSeconds: number;
  /** Load before each window starts (connections warm, JIT done), seconds. */
  warmupSeconds: number;
  /** Targets to run (each scenario runs those of its own targets that are listed here). */
  targets: TargetName[];
  quick: boolean;
  /** Client driver processes for the message scenarios. */
  clients: number;
  /** When set, every server and client process runs under `--cpu-prof` and writes its profile here. */
  profileDir?: string;
  help: boolean;
}

/** The usage text for `--help`. */
export const USAGE = `Usage: npm run bench -- [options]
  --scenario <name|list|all>  fanout100, fanout1000, groups1000, cluster2, idle10k, churn, or all (default: all)
  --duration <seconds>        measurement window per row (default 5; --quick: 1.5)
  --warmup <seconds>          load before each window (default 1; --quick: 0.5)
  --targets <list>            ${TARGET_NAMES.join(',')} (default: all)
  --quick                     short windows, for a run under ~2 minutes
  --clients <n>               client processes driving the message scenarios (default 2)
  --profile <dir>             run servers and the client under --cpu-prof, profiles written to <dir>
  --help`;

const KNOWN = ['scenario', 'duration', 'warmup', 'targets', 'quick', 'clients', 'profile', 'help'];

/**
 * Parses the command line (`--name value`, `--name=value`, and `--quick`/`--quick=true` for the flag).
 * Throws with a readable message on an unknown option or a bad value.
 */
export function parseOptions(argv: string[]): BenchOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!KNOWN.includes(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
    if (eq !== -1) values.set(name, arg.slice(eq + 1));
    else if (name === 'quick' || name === 'help') values.set(name, 'true');
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value\n${USAGE}`);
      values.set(name, value);
    }
  }
  const quick = flag(values.get('quick'));
  const targets = (values.get('targets') ?? TARGET_NAMES.join(','))
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      // `ws` is accepted for `ws-baseline`.
      const name = t === 'ws' ? 'ws-baseline' : t;
      if (!(TARGET_NAMES as readonly string[]).includes(name)) {
        throw new Error(`unknown target "${t}" (known: ${TARGET_NAMES.join(', ')})`);
      }
      return name as TargetName;
    });
  const profile = values.get('profile');
  return {
    scenario: values.get('scenario') ?? 'all',
    durationSeconds: seconds(values.get('duration'), quick ? 1.5 : 5, 'duration'),
    warmupSeconds: seconds(values.get('warmup'), quick ? 0.5 : 1, 'warmup'),
    targets,
    quick,
    clients: count(values.get('clients'), 2, 'clients'),
    ...(profile ? { profileDir: resolve(profile) } : {}),
    help: flag(values.get('help')),
  };
}

function flag(value: string | undefined): boolean {
  return value !== undefined && value !== 'false' && value !== '0';
}

function seconds(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 600) throw new Error(`--${name} must be a number of seconds in (0, 600]`);
  return n;
}

function count(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new Error(`--${name} must be an integer from 1 to 8`);
  return n;
}
