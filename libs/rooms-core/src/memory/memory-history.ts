import { utf8ByteLength } from '../groups/request-checks.js';
import type { GroupId, GroupMessage, SessionId } from '../types.js';

/**
 * MemoryHistory: the latest messages of one group of an `InMemoryStore`, bounded by count (`maxCount`) and by bytes
 * (`maxBytes`, the UTF-8 size of each message's `data` as JSON, summed): appending past either bound drops the oldest
 * messages until both hold again. A message larger than `maxBytes` by itself is not kept either. Holds each message
 * as its JSON text, so a group's history costs what its text costs; reading it parses the text again (a copy).
 * Offsets are appended in order, one by one, from `startAfter + 1`.
 */
export class MemoryHistory {
  // A ring of the kept messages, oldest at `head`, in parallel arrays (a message costs its text, not an object): its
  // sender, its data as JSON text and that text's UTF-8 size. It grows by doubling up to `maxCount`, so a group with
  // a few messages holds a few slots.
  private froms: Array<SessionId | null> = [];
  private texts: string[] = [];
  private sizes: number[] = [];
  private head = 0;
  /** Offset of the oldest message held; `next` when none is. */
  private first: number;
  /** Offset the next message gets. */
  private next: number;
  private held = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
    startAfter: number,
  ) {
    this.first = startAfter + 1;
    this.next = startAfter + 1;
  }

  /** Bytes held: the UTF-8 size of the retained messages' `data` as JSON (at most `maxBytes`). */
  get bytes(): number {
    return this.held;
  }

  /** Offset the next message appended must have (one past the newest held, or dropped by a bound). */
  get nextOffset(): number {
    return this.next;
  }

  /** Messages held (at most `maxCount`). */
  get count(): number {
    return this.next - this.first;
  }

  /**
   * Appends the message with the next offset (`offset` must be that offset), its data as JSON text (`json`), dropping
   * the oldest past the bounds.
   */
  append(offset: number, from: SessionId | null, json: string): void {
    const bytes = utf8ByteLength(json);
    if (this.count === this.maxCount) this.dropOldest();
    if (this.count === this.texts.length) this.grow();
    const slot = (this.head + this.count) % this.texts.length;
    this.froms[slot] = from;
    this.texts[slot] = json;
    this.sizes[slot] = bytes;
    this.next = offset + 1;
    this.held += bytes;
    while (this.held > this.maxBytes) this.dropOldest();
  }

  /**
   * The messages after offset `since`, in order. `complete` is false when some of them are no longer held (dropped by
   * a bound, or before the offset the history started after).
   */
  since(group: GroupId, since: number): { messages: GroupMessage[]; complete: boolean } {
    const messages: GroupMessage[] = [];
    // Offsets are whole: a fractional `since` means the offsets after its whole part.
    since = Math.floor(since);
    for (let offset = Math.max(since + 1, this.first); offset < this.next; offset++) {
      const slot = (this.head + offset - this.first) % this.texts.length;
      messages.push({ group, from: this.froms[slot] ?? null, data: JSON.parse(this.texts[slot] as string) as unknown, offset });
    }
    return { messages, complete: since + 1 >= this.first };
  }

  private dropOldest(): void {
    const slot = this.head;
    this.held -= this.sizes[slot] as number;
    this.texts[slot] = '';
    this.froms[slot] = null;
    this.head = (slot + 1) % this.texts.length;
    this.first++;
  }

  /** Doubles the ring (up to `maxCount` slots), the kept messages first, in order. */
  private grow(): void {
    const capacity = Math.min(this.maxCount, Math.max(8, this.texts.length * 2));
    const froms = new Array<SessionId | null>(capacity).fill(null);
    const texts = new Array<string>(capacity).fill('');
    const sizes = new Array<number>(capacity).fill(0);
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % this.texts.length;
      froms[i] = this.froms[slot] ?? null;
      texts[i] = this.texts[slot] as string;
      sizes[i] = this.sizes[slot] as number;
    }
    this.froms = froms;
    this.texts = texts;
    this.sizes = sizes;
    this.head = 0;
  }
}
