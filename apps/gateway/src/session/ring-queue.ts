/**
 * A FIFO queue on a power-of-two ring buffer: `push` and `shift` are O(1) and the storage only grows to the
 * largest number of items ever waiting at once, however many pass through (an array with a moving head index grows
 * for as long as it is never empty). Shifted slots are cleared so finished items can be collected.
 */
export class RingQueue<T> {
  private slots: Array<T | undefined>;
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 16) {
    let capacity = 1;
    while (capacity < initialCapacity) capacity *= 2;
    this.slots = new Array<T | undefined>(capacity);
  }

  /** Items waiting. */
  get size(): number {
    return this.count;
  }

  /** Slots allocated (a power of two, at least the most items ever waiting at once). */
  get capacity(): number {
    return this.slots.length;
  }

  /** Appends `item`. */
  push(item: T): void {
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) & (this.slots.length - 1)] = item;
    this.count++;
  }

  /** Removes and returns the oldest item (undefined when empty). */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.count--;
    return item;
  }

  /** Drops every item (the storage is kept). */
  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.slots.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.slots[(this.head + i) & (this.slots.length - 1)];
    this.slots = next;
    this.head = 0;
  }
}
