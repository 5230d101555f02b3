import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exceedsPayloadDepth } from '@rooms-kit/contract';
import { checkPayload, checkPayloadField, requireGroupId, requireShallow, utf8ByteLength } from '../../src/groups/request-checks.js';

describe('utf8ByteLength', () => {
  it('counts what Buffer.byteLength counts: ASCII, 2- and 3-byte units, surrogate pairs and lone surrogates', () => {
    const samples = ['', 'hello', 'é', 'ß€', '日本語', '😀', 'a😀b', '👩‍👩‍👧', '\u07ff\u0800', '\ud800', 'x\udc00y', '\ud83d', '\ud83d\ud83d\ude00', '"\\u0000"'];
    for (const text of samples) expect(utf8ByteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text));
  });

  it('property: agrees with Buffer.byteLength on any text, ASCII or not', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\ud800') }));
    fc.assert(fc.property(text, (t) => utf8ByteLength(t) === Buffer.byteLength(t)), { numRuns: 1000 });
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

describe('requireShallow and checkPayloadField', () => {
  it('refuses a value nested deeper than 32 levels with BAD_REQUEST naming the field, and lets scalars through', () => {
    let nested: unknown = 'leaf';
    for (let i = 0; i < 32; i++) nested = [nested];
    expect(() => requireShallow(nested, 'data')).not.toThrow();
    expect(() => requireShallow([nested], 'data')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: 'data: nested deeper than 32 levels' }));
    for (const scalar of [null, undefined, 1, 'x', true]) expect(() => requireShallow(scalar)).not.toThrow();
  });

  it('property: refuses exactly what exceedsPayloadDepth of the contract refuses (nested, shared and cyclic values)', () => {
    const wrap = (value: unknown, levels: number, arrays: boolean): unknown => {
      let nested = value;
      for (let i = 0; i < levels; i++) nested = arrays || i % 3 === 0 ? [nested, 1] : { k: nested, s: 'x' };
      return nested;
    };
    const value = fc
      .tuple(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 0, max: 40 }), fc.boolean(), fc.constantFrom('none', 'shared', 'cycle'))
      .map(([leaf, levels, arrays, twist]) => {
        const nested = wrap(leaf, levels, arrays);
        if (twist === 'shared') return { a: nested, b: nested };
        if (twist === 'cycle' && typeof nested === 'object' && nested !== null) {
          const holder: Record<string, unknown> = { nested };
          holder.self = holder;
          return holder;
        }
        return nested;
      });
    fc.assert(
      fc.property(value, (v) => {
        let refused = false;
        try {
          requireShallow(v);
        } catch (error) {
          expect(error).toMatchObject({ code: 'BAD_REQUEST' });
          refused = true;
        }
        expect(refused).toBe(exceedsPayloadDepth(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('checks depth before size, skips an absent field, and names the field', () => {
    expect(() => checkPayloadField(undefined, 1, 'meta')).not.toThrow();
    expect(() => checkPayloadField({ a: 'xx' }, 10, 'meta')).not.toThrow();
    expect(() => checkPayloadField({ a: 'xxx' }, 10, 'meta')).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', message: 'meta of 11 bytes exceeds 10' }));
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    // JSON.stringify would throw on this one; the depth check refuses it first.
    expect(() => checkPayloadField(deep, 10, 'data')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => checkPayload(10n, 10, 'data')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: 'data cannot be written as JSON' }));
  });
});

describe('requireGroupId', () => {
  it('refuses an invalid id with BAD_REQUEST', () => {
    expect(() => requireGroupId('lobby')).not.toThrow();
    expect(() => requireGroupId('')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', message: 'invalid group id' }));
  });
});
