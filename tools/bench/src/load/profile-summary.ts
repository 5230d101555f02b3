/**
 * `tsx tools/bench/src/load/profile-summary.ts <file.cpuprofile | dir> [top]`: the functions with the most self
 * time in a V8 CPU profile, with their share of the busy time (samples outside "(idle)"). Given one of the directories that
 * `npm run bench -- --profile <dir>` writes per process, it reads the main thread's profile (thread 0; the others
 * are the tsx loader's worker).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './paths.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function (name, file, line), largest first, as [label, micros] pairs. */
export function selfTimes(profile: CpuProfile): { label: string; micros: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.startsWith('file://') ? relative(repoRoot, new URL(url).pathname) : url;
    const where = file && lineNumber > 0 ? `${file}:${lineNumber + 1}` : file;
    const label = `${functionName || '(anonymous)'} ${where}`.trim();
    totals.set(label, (totals.get(label) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...totals.entries()].map(([label, micros]) => ({ label, micros })).sort((a, b) => b.micros - a.micros);
}

/** The main thread's profile in a `--cpu-prof-dir` (Node names them `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`). */
function mainThreadProfile(dir: string): string {
  const name = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!name) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  return join(dir, name);
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop()!);
if (isMain) {
  const [file, top = '15'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const path = statSync(file).isDirectory() ? mainThreadProfile(file) : file;
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const times = selfTimes(profile).filter((t) => t.label !== '(idle)');
  const total = times.reduce((sum, t) => sum + t.micros, 0);
  console.log(`busy ${(total / 1e6).toFixed(2)} s sampled`);
  for (const { label, micros } of times.slice(0, Number(top))) {
    console.log(`${((micros / total) * 100).toFixed(1).padStart(5)} %  ${label}`);
  }
}
