/**
 * The benchmark payload: a string of exactly `size` ASCII characters that starts with `#B<sender>,<seq>,<ts>,`
 * and is padded with `x`. `sender` is the sender's index within its group, `seq` its per-group sequence number
 * (from 0), `ts` the send time in microseconds of the system's monotonic clock (see `nowMicros`).
 * Receivers find markers by scanning the raw frame, so they need not JSON-parse every delivery (the client process
 * shares the machine's two cores with the server: every microsecond it spends is one the server cannot use).
 */

const PREFIX = '#B';
const PADDING = 'x'.repeat(65_536);

/** Called once per marker found in a frame; `now` is the frame's arrival time (µs, see `nowMicros`). */
export type MarkerHandler = (sender: number, seq: number, ts: number, now: number) => void;

/**
 * Microseconds on CLOCK_MONOTONIC, which every process on the machine shares (unlike `performance.now()`, whose
 * origin is the process start), so a sender and a receiver in different processes can still compare times.
 */
export function nowMicros(): number {
  const t = process.hrtime();
  return t[0] * 1_000_000 + Math.floor(t[1] / 1000);
}

/** The payload for one message; never shorter than the marker itself, padded to `size` characters otherwise. */
export function encodeMarker(sender: number, seq: number, ts: number, size: number): string {
  const head = `${PREFIX}${sender},${seq},${ts},`;
  return head.length >= size ? head : head + PADDING.slice(0, size - head.length);
}

/**
 * Calls `onMarker` for every marker in a raw frame (a JSON object or array of them, as bytes); `now` is passed
 * through, so the clock is read once per frame, not per delivery. Returns the number of markers found, or -1 when
 * the frame also contains `hint` (the bytes of a JSON key such as `"ref"`, starting with a quote): a reply or an
 * error the caller must parse. Bytes that do not form a complete marker are skipped, never thrown on.
 * A plain loop over the bytes: `Buffer#indexOf` with a string needle costs more per call than scanning a
 * 150-byte frame, and the client's CPU is the benchmark's scarcest resource.
 */
export function scanBuffer(buf: Uint8Array, now: number, onMarker: MarkerHandler, hint?: Uint8Array): number {
  const len = buf.length;
  let found = 0;
  let hinted = false;
  let p = 0;
  while (p < len) {
    const byte = buf[p++]!;
    if (byte === 0x22 /* " */) {
      if (hint !== undefined && !hinted && matchesAt(buf, p - 1, hint)) hinted = true;
      continue;
    }
    if (byte !== 0x23 /* # */ || buf[p] !== 0x42 /* B */) continue;
    p++;
    let a = 0;
    let b = 0;
    let c = 0;
    let field = 0;
    while (p < len && field < 3) {
      const ch = buf[p++]!;
      if (ch === 44) field++;
      else if (ch < 48 || ch > 57) {
        p--;
        break;
      } else if (field === 0) a = a * 10 + (ch - 48);
      else if (field === 1) b = b * 10 + (ch - 48);
      else c = c * 10 + (ch - 48);
    }
    if (field === 3) {
      onMarker(a, b, c, now);
      found++;
    }
  }
  return hinted ? -1 : found;
}

function matchesAt(buf: Uint8Array, at: number, needle: Uint8Array): boolean {
  if (at + needle.length > buf.length) return false;
  for (let i = 0; i < needle.length; i++) if (buf[at + i] !== needle[i]) return false;
  return true;
}

/** `scanBuffer` for a payload that arrives as a string (Socket.IO hands the decoded `data` to the listener). */
export function scanString(text: string, now: number, onMarker: MarkerHandler): number {
  const len = text.length;
  let found = 0;
  let i = text.indexOf(PREFIX);
  while (i !== -1) {
    let p = i + 2;
    let a = 0;
    let b = 0;
    let c = 0;
    let field = 0;
    while (p < len && field < 3) {
      const ch = text.charCodeAt(p++);
      if (ch === 44) field++;
      else if (ch < 48 || ch > 57) break;
      else if (field === 0) a = a * 10 + (ch - 48);
      else if (field === 1) b = b * 10 + (ch - 48);
      else c = c * 10 + (ch - 48);
    }
    if (field === 3) {
      onMarker(a, b, c, now);
      found++;
    }
    i = text.indexOf(PREFIX, p);
  }
  return found;
}
