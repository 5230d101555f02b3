import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/groups/keyed-queue.js';

/** A task that runs until `finish` is called, recording when it starts. */
function gate(log: string[], name: string): { task: () => Promise<string>; finish: () => void; fail: (error: Error) => void } {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish,
    fail,
  };
}

describe('KeyedQueue', () => {
  it('runs the tasks of one key one after the other, in order, and those of other keys at once', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const [first, second, other] = [gate(log, 'first'), gate(log, 'second'), gate(log, 'other')];
    const results = [queue.run('k', first.task), queue.run('k', second.task), queue.run('j', other.task)];
    await Promise.resolve();
    expect(log).toEqual(['start first', 'start other']);
    second.finish();
    other.finish();
    first.finish();
    expect(await Promise.all(results)).toEqual(['first', 'second', 'other']);
    expect(log.indexOf('start second')).toBeGreaterThan(log.indexOf('end first'));
    expect(queue.size).toBe(0);
  });

  it('a failed task fails its own caller only; the next one still runs', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const [failing, next] = [gate(log, 'failing'), gate(log, 'next')];
    const results = [queue.run('k', failing.task), queue.run('k', next.task)];
    failing.fail(new Error('refused'));
    next.finish();
    await expect(results[0]).rejects.toThrow('refused');
    await expect(results[1]).resolves.toBe('next');
    expect(queue.size).toBe(0);
  });
});
