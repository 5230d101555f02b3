import type { OutboundFrame } from '../transports/outbound-frame.js';

/** A live frame parked behind a handshake or a join, with the outbound buffering of its group. */
export interface ParkedFrame {
  frame: OutboundFrame;
  intervalMs: number;
}

/**
 * The live frames a session holds back while it writes something that must come first: a resume's `welcome`
 * and replay (every frame is parked) or a `join`'s reply and `since` replay (that group's frames are parked).
 * Counts what it holds (`bytes`, by JSON length) so the slow-consumer limit covers parked frames too.
 */
export class ParkedFrames {
  private all: ParkedFrame[] | null = null;
  private groups: Map<string, ParkedFrame[]> | null = null;
  private parkedBytes = 0;

  /** Bytes parked (JSON text length of the frames). */
  get bytes(): number {
    return this.parkedBytes;
  }

  /** True when nothing is held back (neither every frame nor any group's): the buffers can be dropped. */
  get idle(): boolean {
    return this.all === null && this.groups === null;
  }

  /** From now on, parks every frame until {@link releaseAll}. */
  holdAll(): void {
    this.all ??= [];
  }

  /** From now on, parks the frames of `group` until {@link releaseGroup}. */
  holdGroup(group: string): void {
    (this.groups ??= new Map()).set(group, []);
  }

  /** Parks `frame` when it is held back; false when it may go out now. */
  park(frame: OutboundFrame, intervalMs: number): boolean {
    if (this.all === null && this.groups === null) return false;
    let list = this.all;
    if (list === null && frame.group !== null) list = this.groups?.get(frame.group) ?? null;
    if (list === null) return false;
    list.push({ frame, intervalMs });
    this.parkedBytes += frame.json.length;
    return true;
  }

  /** Stops parking every frame; returns what was parked, in arrival order. */
  releaseAll(): ParkedFrame[] {
    const list = this.all ?? [];
    this.all = null;
    this.uncount(list);
    return list;
  }

  /** Stops parking `group`'s frames; returns what was parked, in arrival order. */
  releaseGroup(group: string): ParkedFrame[] {
    const list = this.groups?.get(group);
    if (!list) return [];
    this.groups?.delete(group);
    if (this.groups?.size === 0) this.groups = null;
    this.uncount(list);
    return list;
  }

  /** Per group, the lowest message offset parked (those never reached the client). */
  lowestOffsets(into: Map<string, number>): void {
    const note = (list: readonly ParkedFrame[]): void => {
      for (const { frame } of list) {
        if (frame.offset === 0 || frame.group === null) continue;
        const known = into.get(frame.group);
        if (known === undefined || frame.offset < known) into.set(frame.group, frame.offset);
      }
    };
    if (this.all !== null) note(this.all);
    for (const list of this.groups?.values() ?? []) note(list);
  }

  /** Drops everything parked and stops parking. */
  clear(): void {
    this.all = null;
    this.groups = null;
    this.parkedBytes = 0;
  }

  private uncount(list: readonly ParkedFrame[]): void {
    for (const { frame } of list) this.parkedBytes -= frame.json.length;
  }
}
