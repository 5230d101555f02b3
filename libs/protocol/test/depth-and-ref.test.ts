import { exceedsPayloadDepth, MAX_PAYLOAD_DEPTH } from '@rooms-kit/contract';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../src/client.js';
import type { Request } from '../src/client.js';
import { decodeRequest, peekRef } from '../src/server.js';
import { textExceedsPayloadDepth } from '../src/server/json-scan.js';
import type { DecodeResult } from '../src/server.js';

/** `levels` nested arrays (or objects) as text; never built as a value. */
function nested(levels: number, kind: 'array' | 'object' = 'array'): string {
  if (levels <= 0) return '0';
  return kind === 'array' ? '['.repeat(levels) + ']'.repeat(levels) : '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

function refusal(result: DecodeResult): { ref: number | null; code: string; message: string } {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.request)}`);
  return { ref: result.ref, code: result.error.code, message: result.error.message };
}

describe('decodeRequest: the payload depth bound', () => {
  it.each([
    ['join', 'data'],
    ['leave', 'data'],
    ['broadcast', 'data'],
    ['create', 'data'],
  ])('%s: %s at the bound is accepted, one level deeper is BAD_REQUEST naming the field and the limit', (op, field) => {
    const at = (levels: number) => `{"op":"${op}","ref":3,"group":"g","${field}":${nested(levels)}}`;
    expect(decodeRequest(at(MAX_PAYLOAD_DEPTH)).ok).toBe(true);
    expect(refusal(decodeRequest(at(MAX_PAYLOAD_DEPTH + 1)))).toEqual({
      ref: 3,
      code: 'BAD_REQUEST',
      message: `${field}: nested deeper than ${MAX_PAYLOAD_DEPTH} levels`,
    });
  });

  it('meta counts its own object as the first level', () => {
    const create = (levels: number) => `{"op":"create","ref":4,"meta":{"m":${nested(levels - 1, 'object')}}}`;
    expect(decodeRequest(create(MAX_PAYLOAD_DEPTH)).ok).toBe(true);
    expect(refusal(decodeRequest(create(MAX_PAYLOAD_DEPTH + 1)))).toMatchObject({ ref: 4, message: 'meta: nested deeper than 32 levels' });
  });

  it('refuses the issue\'s frames: join data 10,000 levels, broadcast data 100,000 levels, as text or bytes', () => {
    const join = `{"op":"join","ref":1,"group":"g","data":${nested(10_000, 'object')}}`;
    expect(refusal(decodeRequest(join))).toMatchObject({ ref: 1, code: 'BAD_REQUEST', message: 'data: nested deeper than 32 levels' });
    const broadcast = Buffer.from(`{"op":"broadcast","group":"g","data":${nested(100_000)},"ref":2}`);
    // The ref comes after the deep field: it is still found, without parsing.
    expect(refusal(decodeRequest(broadcast))).toMatchObject({ ref: 2, code: 'BAD_REQUEST', message: 'data: nested deeper than 32 levels' });
    expect(refusal(decodeRequest([broadcast.subarray(0, 10), broadcast.subarray(10)]))).toMatchObject({ ref: 2 });
  });

  it('bounds every field, not only the payloads; a field name is echoed plain, or quoted and cut', () => {
    expect(refusal(decodeRequest(`{"op":"ping","ref":5,"extra":${nested(40)}}`))).toMatchObject({ ref: 5, message: 'extra: nested deeper than 32 levels' });
    expect(refusal(decodeRequest(`{"op":${nested(40)},"ref":5}`))).toMatchObject({ ref: 5, message: 'op: nested deeper than 32 levels' });
    expect(refusal(decodeRequest(`{"op":"ping","ref":${nested(40)}}`))).toMatchObject({ ref: null, message: 'ref: nested deeper than 32 levels' });
    const name = 'x y'.repeat(100);
    const message = refusal(decodeRequest(`{"op":"ping",${JSON.stringify(name)}:${nested(40)}}`)).message;
    expect(message).toBe(`${JSON.stringify(`${name.slice(0, 64)}…`)}: nested deeper than 32 levels`);
  });

  it('a deep text that is no object is "expected a JSON object" with ref null', () => {
    expect(refusal(decodeRequest(nested(50_000)))).toEqual({ ref: null, code: 'BAD_REQUEST', message: 'expected a JSON object' });
    expect(refusal(decodeRequest(`  ${nested(40, 'object')}`))).toMatchObject({ ref: null, message: 'a: nested deeper than 32 levels' });
  });

  it('brackets inside strings, escaped quotes included, do not count', () => {
    const data = `"${'['.repeat(100)}\\"${'{'.repeat(100)}\\\\"`;
    const items = Array.from({ length: 40 }, () => '{"s":"]]]}}}\\"[["}').join(',');
    const frame = `{"op":"broadcast","ref":6,"group":"g","data":${data},"n":[${items}]}`;
    const result = decodeRequest(frame);
    expect(result.ok).toBe(true);
    // The last string ends at `\\"` (an escaped backslash, then the closing quote), so `data` is a plain string.
    expect(result.ok && result.request.op === 'broadcast' && typeof result.request.data).toBe('string');
  });

  it('a frame deep and unterminated, or with unbalanced brackets, is still a catalog refusal', () => {
    expect(refusal(decodeRequest(`{"op":"broadcast","ref":7,"data":${'['.repeat(1000)}`))).toMatchObject({ ref: 7, code: 'BAD_REQUEST' });
    expect(refusal(decodeRequest(`{"op":"ping","ref":8,"s":"${'['.repeat(1000)}`))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(refusal(decodeRequest(`]]]]${nested(40)}`))).toMatchObject({ code: 'BAD_REQUEST' });
  });
});

describe('textExceedsPayloadDepth', () => {
  it('agrees with exceedsPayloadDepth of the parsed value, strings with brackets included', () => {
    const value = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', maxDepth: 40 },
        fc.constantFrom(0, null, true, '[', '{"', ']}', '\\', 'a"b'),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', '[', '"}'), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 40 }), (v, limit) => {
        expect(textExceedsPayloadDepth(JSON.stringify(v), limit)).toBe(exceedsPayloadDepth(v, limit));
      }),
      { numRuns: 500 },
    );
  });

  it('decides at the bound, and measures 100,000 levels', () => {
    expect(textExceedsPayloadDepth(nested(MAX_PAYLOAD_DEPTH))).toBe(false);
    expect(textExceedsPayloadDepth(nested(MAX_PAYLOAD_DEPTH + 1))).toBe(true);
    expect(textExceedsPayloadDepth(nested(100_000, 'object'))).toBe(true);
    expect(textExceedsPayloadDepth('"text"')).toBe(false);
  });
});

describe('peekRef (the ref of a frame refused without decoding)', () => {
  it('reads the top-level ref wherever it is, as text or bytes', () => {
    expect(peekRef('{"op":"ping","ref":7}')).toBe(7);
    expect(peekRef(Buffer.from(' { "ref" : -12 , "op":"ping"}'))).toBe(-12);
    expect(peekRef(`{"op":"broadcast","data":{"ref":1,"x":${nested(1000)}},"ref":9}`)).toBe(9);
    expect(peekRef('{"r\\u0065f":5}')).toBe(5);
    expect(peekRef('{"ref":1e2}')).toBe(100);
  });

  it('is null for a missing ref, one that is no safe integer, and anything not an object', () => {
    for (const frame of [
      '{"op":"ping"}',
      '{"op":"ping","data":{"ref":3}}',
      '{"ref":"3"}',
      '{"ref":1.5}',
      `{"ref":${2 ** 53}}`,
      '{"ref":12abc}',
      '{"ref":[1]}',
      '{"ref":null}',
      '[{"ref":1}]',
      'not json',
      '',
    ]) {
      expect(peekRef(frame), frame).toBeNull();
    }
  });

  it('is the ref decodeRequest reads, for every request a client encodes', () => {
    const request = fc.record(
      { op: fc.constantFrom('join', 'broadcast', 'ping'), ref: fc.maxSafeInteger(), group: fc.constant('g'), data: fc.jsonValue({ maxDepth: 5 }) },
      { requiredKeys: ['op', 'group'] },
    );
    fc.assert(
      fc.property(request, (fields) => {
        const text = encodeRequest(fields as unknown as Request);
        const decoded = decodeRequest(text);
        expect(peekRef(text)).toBe(decoded.ok ? (decoded.request.ref ?? null) : decoded.ref);
      }),
      { numRuns: 500 },
    );
  });
});
