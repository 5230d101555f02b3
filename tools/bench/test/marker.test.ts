import { describe, expect, it } from 'vitest';
import { encodeMarker, nowMicros, scanBuffer, scanString } from '../src/load/marker.js';

function collect(frame: string, hint?: string) {
  const seen: number[][] = [];
  const result = scanBuffer(Buffer.from(frame), 42, (...args) => seen.push(args), hint ? Buffer.from(hint) : undefined);
  return { seen, result };
}

describe('payload markers', () => {
  it('encodes a payload of exactly the requested size that starts with the marker', () => {
    const payload = encodeMarker(3, 17, 123456789, 64);
    expect(payload).toHaveLength(64);
    expect(payload.startsWith('#B3,17,123456789,')).toBe(true);
    expect(payload).toMatch(/^[#B0-9,x]+$/);
  });

  it('never truncates the marker when the size is too small', () => {
    expect(encodeMarker(1, 2, 3, 4)).toBe('#B1,2,3,');
  });

  it('finds the marker in a single JSON event and passes the frame time through', () => {
    const data = encodeMarker(2, 5, 1000, 64);
    const { seen, result } = collect(`{"ev":"message","group":"g","from":"s1","data":"${data}","offset":6}`);
    expect(result).toBe(1);
    expect(seen).toEqual([[2, 5, 1000, 42]]);
  });

  it('finds every marker of an array frame, in order', () => {
    const items = [0, 1, 2].map((seq) => `{"ev":"message","data":"${encodeMarker(1, seq, 50 + seq, 40)}"}`);
    const { seen, result } = collect(`[${items.join(',')}]`);
    expect(result).toBe(3);
    expect(seen.map((s) => s[1])).toEqual([0, 1, 2]);
  });

  it('returns 0 for a frame without markers and -1 when the control hint is present', () => {
    expect(collect('{"ev":"welcome","session":"abc"}', '"ref"').result).toBe(0);
    const mixed = `[{"ev":"message","data":"${encodeMarker(0, 0, 1, 30)}"},{"ref":null,"ok":false}]`;
    const { seen, result } = collect(mixed, '"ref"');
    expect(result).toBe(-1);
    expect(seen).toHaveLength(1);
  });

  it('skips incomplete or malformed markers without throwing', () => {
    expect(collect('{"data":"#B1,2"}').result).toBe(0);
    expect(collect('#B').result).toBe(0);
    expect(collect('{"data":"#Bx,1,2,"} #B7,8,9,').seen).toEqual([[7, 8, 9, 42]]);
  });

  it('scans strings the same way', () => {
    const seen: number[][] = [];
    expect(scanString(encodeMarker(4, 9, 77, 64), 5, (...args) => seen.push(args))).toBe(1);
    expect(seen).toEqual([[4, 9, 77, 5]]);
  });

  it('reads a monotonic microsecond clock', () => {
    const a = nowMicros();
    const b = nowMicros();
    expect(Number.isInteger(a)).toBe(true);
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
