/**
 * What one receiver saw of each sender in its group: the next sequence number it expects, the gaps (lost) and the
 * repeats or reorders (counted as duplicates). Senders number their messages 0, 1, 2, … per group, and every
 * target under test promises per-sender order within a group, so in-order is the fast path.
 */
export class SequenceTracker {
  private readonly next: Int32Array;
  /** Messages skipped over (a later one arrived first); they are lost unless they arrive later as "duplicates". */
  gaps = 0;
  /** Messages at or below one already seen. */
  duplicates = 0;

  constructor(senders: number) {
    this.next = new Int32Array(senders);
  }

  /** Records one delivery; returns true when it was new (not a repeat). */
  see(sender: number, seq: number): boolean {
    const expected = this.next[sender];
    if (expected === undefined) return false;
    if (seq === expected) {
      this.next[sender] = seq + 1;
      return true;
    }
    if (seq > expected) {
      this.gaps += seq - expected;
      this.next[sender] = seq + 1;
      return true;
    }
    this.duplicates++;
    return false;
  }

  /**
   * Messages of `sender` after the latest one this receiver saw, given that the sender sent `sent` of them
   * (numbered 0..sent-1). The receiver's total loss is this summed over senders, plus `gaps`.
   */
  missingFrom(sender: number, sent: number): number {
    const next = this.next[sender] ?? 0;
    return Math.max(0, sent - next);
  }
}
