import { encodeBatch } from '@rooms-kit/protocol/server';
import { OutboundFrame } from '../transports/outbound-frame.js';
import type { Transport, WireEncoding } from '../transports/transport.js';

/**
 * One session's outbound frames: the queue written at the next flush, and per buffered (`interval`) group the
 * frames held until the group's interval ends. Counts the bytes waiting (the slow-consumer check: queued frames as
 * `encoding` puts them on the wire, held ones by their JSON text) and can tell, for a session whose connection
 * died, the first message offset of each group that never reached the client.
 */
export class OutboundQueue {
  private frames: OutboundFrame[] = [];
  private held: Map<string, OutboundFrame[]> | null = null;
  private queuedBytes = 0;
  private heldBytes = 0;

  /** `encoding`: the wire encoding of the session's transport. */
  constructor(private readonly encoding: WireEncoding) {}

  /** Bytes waiting in this queue (queued and held). */
  get bytes(): number {
    return this.queuedBytes + this.heldBytes;
  }

  /** True when nothing is queued for the next flush. */
  get isEmpty(): boolean {
    return this.frames.length === 0;
  }

  /** Queues a frame for the next flush. */
  push(frame: OutboundFrame): void {
    this.frames.push(frame);
    this.queuedBytes += frame.encoded(this.encoding).length;
  }

  /** Holds a frame of a buffered group; true when it is the first held for that group. */
  hold(group: string, frame: OutboundFrame): boolean {
    this.held ??= new Map();
    const list = this.held.get(group);
    this.heldBytes += frame.json.length;
    if (list) {
      list.push(frame);
      return false;
    }
    this.held.set(group, [frame]);
    return true;
  }

  /**
   * Moves the frames held for `group` to the queue as one array frame: `reuse` when it packs exactly the same
   * frames, else a new batch. Returns the queued batch, or null when nothing was held.
   */
  releaseHeld(group: string, reuse: OutboundFrame | null): OutboundFrame | null {
    const list = this.held?.get(group);
    if (!list) return null;
    this.held?.delete(group);
    for (const frame of list) this.heldBytes -= frame.json.length;
    const batch = reuse !== null && samePartsAs(reuse, list) ? reuse : new OutboundFrame(encodeBatch(list.map((f) => f.json)), group, 0, list);
    this.push(batch);
    return batch;
  }

  /**
   * Drops the frames held for `group` (the connection left it: nothing of the group may follow the leave reply).
   */
  dropHeld(group: string): void {
    const list = this.held?.get(group);
    if (!list) return;
    this.held?.delete(group);
    for (const frame of list) this.heldBytes -= frame.json.length;
  }

  /**
   * Writes every queued frame to `transport` as one batch (one corked write on a socket) and empties the queue.
   * `onWritten`, when given, is called once the transport handed the last of them on (or failed). Returns the
   * bytes written. The queue must not be empty.
   */
  writeTo(transport: Pick<Transport, 'write'>, onWritten?: () => void): number {
    const frames = this.frames;
    const bytes = this.queuedBytes;
    this.frames = [];
    this.queuedBytes = 0;
    transport.write(frames, onWritten);
    return bytes;
  }

  /** Drops everything queued and held. */
  clear(): void {
    this.frames = [];
    this.held = null;
    this.queuedBytes = 0;
    this.heldBytes = 0;
  }

  /** Per group, the lowest message offset still queued or held (never written to the transport). */
  unwrittenOffsets(): Map<string, number> {
    const lowest = new Map<string, number>();
    const note = (frame: OutboundFrame): void => {
      if (frame.parts) {
        for (const part of frame.parts) note(part);
        return;
      }
      if (frame.offset === 0 || frame.group === null) return;
      const known = lowest.get(frame.group);
      if (known === undefined || frame.offset < known) lowest.set(frame.group, frame.offset);
    };
    for (const frame of this.frames) note(frame);
    for (const list of this.held?.values() ?? []) for (const frame of list) note(frame);
    return lowest;
  }
}

function samePartsAs(batch: OutboundFrame, list: readonly OutboundFrame[]): boolean {
  const parts = batch.parts;
  if (parts === null || parts.length !== list.length) return false;
  for (let i = 0; i < list.length; i++) if (parts[i] !== list[i]) return false;
  return true;
}
