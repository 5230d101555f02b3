import WebSocket from 'ws';
import { nowMicros, scanBuffer } from '../marker.js';
import type { MarkerHandler } from '../marker.js';

/** Where a bench socket hands what it receives. */
export interface FrameSink {
  /** Read at every frame, so it may be reassigned after the socket opened. */
  onMarker: MarkerHandler;
  /** Frames without markers, and frames whose bytes contain `controlHint` (replies and errors). */
  onControl(frame: Buffer): void;
}

/**
 * A `ws` client socket set up for measuring: no compression, no UTF-8 validation (the payload is ASCII we wrote),
 * and a frame callback that scans for markers first and hands to `sink.onControl` only the frames that need JSON
 * parsing: those without a marker and those containing `controlHint` (a quoted JSON key, e.g. `"ref"`).
 */
export function openBenchSocket(url: string, controlHint: string, sink: FrameSink): WebSocket {
  const hint = Buffer.from(controlHint);
  const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 20_000 });
  ws.on('message', (data: Buffer) => {
    // 0: no marker (welcome, replies, joined/left events); -1: markers plus a reply or error to parse.
    if (scanBuffer(data, nowMicros(), sink.onMarker, hint) <= 0) sink.onControl(data);
  });
  return ws;
}

/** The items of a JSON frame that may be one object or an array of them; undefined when it is not JSON. */
export function parseFrameItems(frame: Buffer): Record<string, unknown>[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame.toString('utf8'));
  } catch {
    return undefined;
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  return items.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null);
}
