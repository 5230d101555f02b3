import type { GroupMessage } from '@rooms-kit/core';
import { encodeMessageEvent } from '@rooms-kit/protocol/server';
import { OutboundFrame } from '../transports/outbound-frame.js';
import type { WireEncoding } from '../transports/transport.js';

/** Most bytes of replayed frames queued at a time (further capped at a quarter of the slow-consumer limit). */
export const REPLAY_PAGE_BYTES = 64 * 1024;
/** Most replayed messages encoded and queued at a time (bounds the event-loop time of one page). */
export const REPLAY_PAGE_MESSAGES = 256;

/** A session's outbox as a replay writes to it. */
export interface ReplayTarget {
  /** True once the session ended: the replay stops. */
  readonly ended: boolean;
  /** The wire encoding of the session's transport (a page's bytes are counted in it). */
  readonly encoding: WireEncoding;
  /** Queues one replayed frame (counted against the slow-consumer limit like any other). */
  queueReplayed(frame: OutboundFrame): void;
  /**
   * Writes what is queued and resolves once the transport handed it on to the client, or once the session ended.
   * A client that does not read keeps this pending: the replay waits instead of queueing more.
   */
  writeAndWait(): Promise<void>;
}

/**
 * Replays `messages` (a group's history after `since`, in offset order) to `target` page by page: at most
 * `pageBytes` bytes or {@link REPLAY_PAGE_MESSAGES} messages are encoded and queued, then the replay waits until the
 * transport took them and yields one event-loop turn before the next page. So a replay holds at most about one page in
 * memory whatever the history's size, never blocks the event loop for long, and goes at the client's reading pace.
 * Offsets at or below the last one sent are skipped. Resolves with the last offset sent (`since` when none).
 */
export async function replayHistory(
  target: ReplayTarget,
  group: string,
  since: number,
  messages: readonly GroupMessage[],
  pageBytes: number,
): Promise<number> {
  let last = since;
  let next = 0;
  while (next < messages.length && !target.ended) {
    let bytes = 0;
    let count = 0;
    while (next < messages.length && bytes < pageBytes && count < REPLAY_PAGE_MESSAGES) {
      const message = messages[next++] as GroupMessage;
      if (message.offset <= last) continue;
      const frame = new OutboundFrame(encodeMessageEvent(group, message.from, message.data, message.offset), group, message.offset);
      target.queueReplayed(frame);
      if (target.ended) return last;
      last = message.offset;
      bytes += frame.encoded(target.encoding).length;
      count++;
    }
    if (next < messages.length) {
      await target.writeAndWait();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return last;
}
