import { describe, expect, it } from 'vitest';
import { checkPayload, requireGroupId, utf8ByteLength } from '../../src/groups/request-checks.js';

describe('utf8ByteLength', () => {
  it('counts what Buffer.byteLength counts: ASCII, 2- and 3-byte units, surrogate pairs and lone surrogates', () => {
    const samples = ['', 'hello', 'é', 'ß€', '日本語', '😀', 'a😀b', '👩‍👩‍👧', '\u07ff\u0800', '\ud800', 'x\udc00y', '\ud83d', '\ud83d\ud83d\ude00', '"\\u0000"'];
    for (const text of samples) expect(utf8ByteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text));
  });

  it('agrees with TextEncoder on long mixed text', () => {
    const text = Array.from({ length: 5000 }, (_, i) => String.fromCodePoint([0x41, 0xe9, 0x20ac, 0x1f600][i % 4] ?? 0x41)).join('');
    expect(utf8ByteLength(text)).toBe(new TextEncoder().encode(text).length);
  });
});

describe('checkPayload', () => {
  it('accepts anything without a limit, and exactly up to the limit in UTF-8 bytes of the JSON', () => {
    expect(() => checkPayload('x'.repeat(1_000_000), undefined)).not.toThrow();
    // "€€€" as JSON is 2 + 9 = 11 bytes, though only 5 UTF-16 units.
    expect(() => checkPayload('€€€', 11)).not.toThrow();
    expect(() => checkPayload('€€€', 10)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', message: 'payload of 11 bytes exceeds 10' }));
    expect(() => checkPayload(undefined, 4)).not.toThrow();
    expect(() => checkPayload(undefined, 3)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
  });
});

describe('requireGroupId', () => {
  it('refuses an invalid id with BAD_REQUEST', () => {
    expect(() => requireGroupId('lobby')).not.toThrow();
    expect(() => requireGroupId('')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: 'invalid group id' }));
  });
});
