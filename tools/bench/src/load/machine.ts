import { cpus, totalmem } from 'node:os';

/** One line describing where the numbers were taken: CPU model, cores, memory, Node version. */
export function describeMachine(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${list.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}, ${process.platform}`;
}
