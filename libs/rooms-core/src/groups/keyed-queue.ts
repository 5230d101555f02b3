/**
 * KeyedQueue: runs the tasks of one key one after the other, in the order they were queued; tasks of different keys
 * run independently. A task's failure is its caller's, never the next task's. A key with nothing queued costs nothing.
 */
export class KeyedQueue {
  /** Per key, the end of its queue (settles when the last task queued so far has). */
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` once every task queued before it under `key` settled; resolves or rejects as `task` does. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key);
    let finished!: () => void;
    const tail = new Promise<void>((resolve) => (finished = resolve));
    this.tails.set(key, before ? before.then(() => tail) : tail);
    const mine = this.tails.get(key) as Promise<void>;
    try {
      if (before) await before;
      return await task();
    } finally {
      finished();
      if (this.tails.get(key) === mine) this.tails.delete(key);
    }
  }

  /** Number of keys with a task queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
