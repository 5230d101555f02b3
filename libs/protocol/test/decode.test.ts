import { describe, expect, it } from 'vitest';
import { RoomsError } from '@rooms-kit/contract';
import { MAX_TTL_SECONDS, OPS, decodeRequest } from '../src/server.js';
import type { DecodeResult } from '../src/server.js';

function rejected(result: DecodeResult): { ref: number | null; code: string; message: string } {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.request)}`);
  expect(result.error).toBeInstanceOf(RoomsError);
  return { ref: result.ref, code: result.error.code, message: result.error.message };
}

function accepted(input: unknown): unknown {
  const result = decodeRequest(JSON.stringify(input));
  if (!result.ok) throw new Error(`expected acceptance, got ${result.error.code}: ${result.error.message}`);
  return result.request;
}

/** A minimal valid request of each op. */
const MINIMAL: Record<(typeof OPS)[number], Record<string, unknown>> = {
  create: { op: 'create' },
  join: { op: 'join', group: 'g' },
  leave: { op: 'leave', group: 'g' },
  broadcast: { op: 'broadcast', group: 'g', data: { x: 1 } },
  members: { op: 'members', group: 'g' },
  groups: { op: 'groups' },
  group: { op: 'group', group: 'g' },
  ping: { op: 'ping' },
};

describe('decodeRequest: valid requests', () => {
  it.each(OPS)('accepts a minimal %s, with and without ref', (op) => {
    expect(accepted(MINIMAL[op])).toEqual(MINIMAL[op]);
    expect(accepted({ ...MINIMAL[op], ref: 12 })).toEqual({ ...MINIMAL[op], ref: 12 });
  });

  it('accepts every optional field', () => {
    const create = {
      op: 'create', ref: 1, group: 'lobby:eu/1', allowEmpty: true, join: false, ttl: 1.5, maxMembers: 10,
      interval: 60000, meta: { title: 'x', nested: { a: [1] } }, data: [1, 'two'],
    };
    expect(accepted(create)).toEqual(create);
    const join = { op: 'join', ref: 2, group: 'g', data: 'hi', since: 0 };
    expect(accepted(join)).toEqual(join);
    const leave = { op: 'leave', group: 'g', data: null };
    expect(accepted(leave)).toEqual(leave);
    const broadcast = { op: 'broadcast', group: 'g', data: 'x', self: true };
    expect(accepted(broadcast)).toEqual(broadcast);
  });

  it('accepts boundary values', () => {
    expect(accepted({ op: 'join', group: 'a'.repeat(128) })).toMatchObject({ group: 'a'.repeat(128) });
    expect(accepted({ op: 'join', group: 'A-z_0.9:@/#=+-' })).toMatchObject({ group: 'A-z_0.9:@/#=+-' });
    expect(accepted({ op: 'create', ttl: 0, interval: 0, maxMembers: 1 })).toMatchObject({ ttl: 0, interval: 0 });
    expect(accepted({ op: 'create', ttl: MAX_TTL_SECONDS })).toMatchObject({ ttl: MAX_TTL_SECONDS });
    expect(accepted({ op: 'join', group: 'g', since: Number.MAX_SAFE_INTEGER })).toMatchObject({ since: Number.MAX_SAFE_INTEGER });
  });

  it('accepts any JSON value as data, null included, for broadcast', () => {
    for (const data of [null, 0, false, '', [], {}, 'text', [null, { a: 1 }]]) {
      expect(accepted({ op: 'broadcast', group: 'g', data })).toEqual({ op: 'broadcast', group: 'g', data });
    }
  });

  it('accepts any safe integer as ref, including 0 and negatives', () => {
    for (const ref of [0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      expect(accepted({ op: 'ping', ref })).toEqual({ op: 'ping', ref });
    }
  });

  it('ignores unknown extra fields (forward compatible) and keeps the parsed object', () => {
    const result = decodeRequest('{"op":"join","group":"g","future":{"x":[1,2]},"ref":3}');
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.request).toEqual({ op: 'join', group: 'g', future: { x: [1, 2] }, ref: 3 });
  });

  it('accepts create with join:false when allowEmpty is true', () => {
    expect(accepted({ op: 'create', join: false, allowEmpty: true })).toEqual({ op: 'create', join: false, allowEmpty: true });
  });

  it('accepts Buffer, Uint8Array, ArrayBuffer and fragment lists', () => {
    const text = '{"op":"broadcast","ref":5,"group":"g","data":"héllo ✓"}';
    const bytes = new TextEncoder().encode(text);
    const split = 20; // inside the multi-byte characters is fine too: fragments are joined before decoding
    const inputs = [
      Buffer.from(text),
      bytes,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      [Buffer.from(bytes.subarray(0, split)), Buffer.from(bytes.subarray(split, 42)), Buffer.from(bytes.subarray(42))],
      [Buffer.from(text)],
    ];
    for (const raw of inputs) {
      const result = decodeRequest(raw);
      expect(result).toEqual({ ok: true, request: { op: 'broadcast', ref: 5, group: 'g', data: 'héllo ✓' } });
    }
  });
});

describe('decodeRequest: malformed frames', () => {
  it.each(['', 'nope', '{"op":"ping"', '{op:"ping"}', '[1,'])('rejects invalid JSON %j with BAD_REQUEST, ref null', (raw) => {
    expect(rejected(decodeRequest(raw))).toMatchObject({ ref: null, code: 'BAD_REQUEST', message: 'invalid JSON' });
  });

  it.each(['1', '"ping"', 'null', 'true', '[]', '[{"op":"ping","ref":1}]'])('rejects the non-object %s, ref null', (raw) => {
    expect(rejected(decodeRequest(raw))).toMatchObject({ ref: null, code: 'BAD_REQUEST', message: 'expected a JSON object' });
  });

  it('rejects a request without op as BAD_REQUEST, keeping ref', () => {
    expect(rejected(decodeRequest('{"ref":4,"group":"g"}'))).toEqual({ ref: 4, code: 'BAD_REQUEST', message: 'op: required' });
    expect(rejected(decodeRequest('{}'))).toEqual({ ref: null, code: 'BAD_REQUEST', message: 'op: required' });
  });

  it.each([1, null, true, ['ping'], { name: 'ping' }])('rejects op %j (not a string) as BAD_REQUEST', (op) => {
    expect(rejected(decodeRequest(JSON.stringify({ op, ref: 9 })))).toEqual({
      ref: 9, code: 'BAD_REQUEST', message: 'op: expected string',
    });
  });

  it.each(['nope', 'PING', '', '__proto__', 'toString', 'constructor', 'hasOwnProperty'])('rejects op %j as UNKNOWN_OP', (op) => {
    const error = rejected(decodeRequest(JSON.stringify({ op, ref: 6 })));
    expect(error).toMatchObject({ ref: 6, code: 'UNKNOWN_OP' });
    expect(error.message).toContain(JSON.stringify(op));
  });

  it('truncates a long unknown op in the message', () => {
    const error = rejected(decodeRequest(JSON.stringify({ op: 'x'.repeat(10_000) })));
    expect(error.code).toBe('UNKNOWN_OP');
    expect(error.message.length).toBeLessThan(100);
  });

  it.each([
    ['a string', '"1"'],
    ['a fraction', '1.5'],
    ['null', 'null'],
    ['an unsafe integer', '9007199254740993'],
    ['an object', '{}'],
    ['a boolean', 'true'],
  ])('rejects ref as %s with BAD_REQUEST and ref null', (_what, ref) => {
    expect(rejected(decodeRequest(`{"op":"ping","ref":${ref}}`))).toEqual({
      ref: null, code: 'BAD_REQUEST', message: 'ref: expected integer',
    });
  });

  it('reports a bad ref before an unknown op', () => {
    expect(rejected(decodeRequest('{"op":"zzz","ref":"x"}'))).toMatchObject({ code: 'BAD_REQUEST', ref: null });
  });
});

describe('decodeRequest: field types', () => {
  // [op, field, a wrong value, expected message after "field: "]
  const WRONG_TYPES: [string, string, unknown, string][] = [
    ['create', 'group', 5, 'expected string'],
    ['create', 'allowEmpty', 'yes', 'expected boolean'],
    ['create', 'join', 1, 'expected boolean'],
    ['create', 'ttl', '10', 'expected number'],
    ['create', 'maxMembers', '10', 'expected integer'],
    ['create', 'interval', true, 'expected integer'],
    ['create', 'meta', 'x', 'expected object'],
    ['create', 'meta', [], 'expected object'],
    ['create', 'meta', null, 'expected object'],
    ['join', 'group', null, 'expected string'],
    ['join', 'since', '3', 'expected integer'],
    ['join', 'since', null, 'expected integer'],
    ['leave', 'group', ['g'], 'expected string'],
    ['broadcast', 'group', {}, 'expected string'],
    ['broadcast', 'self', 'true', 'expected boolean'],
    ['members', 'group', 1, 'expected string'],
    ['group', 'group', false, 'expected string'],
  ];

  it.each(WRONG_TYPES)('%s with %s = %j is BAD_REQUEST "%s"', (op, field, value, text) => {
    const base = MINIMAL[op as keyof typeof MINIMAL];
    const error = rejected(decodeRequest(JSON.stringify({ ...base, ref: 21, [field]: value })));
    expect(error).toEqual({ ref: 21, code: 'BAD_REQUEST', message: `${field}: ${text}` });
  });

  // [op, missing field]
  const REQUIRED: [string, string][] = [
    ['join', 'group'],
    ['leave', 'group'],
    ['broadcast', 'group'],
    ['broadcast', 'data'],
    ['members', 'group'],
    ['group', 'group'],
  ];

  it.each(REQUIRED)('%s without %s is BAD_REQUEST "%s: required"', (op, field) => {
    const request: Record<string, unknown> = { ...MINIMAL[op as keyof typeof MINIMAL], ref: 22 };
    delete request[field];
    expect(rejected(decodeRequest(JSON.stringify(request)))).toEqual({
      ref: 22, code: 'BAD_REQUEST', message: `${field}: required`,
    });
  });

  // [op, field, a value of the right type that breaks a constraint]
  const CONSTRAINTS: [string, string, unknown][] = [
    ['join', 'group', ''],
    ['join', 'group', 'a'.repeat(129)],
    ['join', 'group', 'a b'],
    ['join', 'group', '{tag}'],
    ['join', 'group', 'é'],
    ['join', 'group', 'a\nb'],
    ['create', 'group', 'has space'],
    ['broadcast', 'group', '}'],
    ['create', 'ttl', -1],
    ['create', 'ttl', MAX_TTL_SECONDS + 1],
    ['create', 'maxMembers', 0],
    ['create', 'maxMembers', -3],
    ['create', 'maxMembers', 2.5],
    ['create', 'interval', -1],
    ['create', 'interval', 60001],
    ['create', 'interval', 10.5],
    ['join', 'since', -1],
    ['join', 'since', 0.5],
  ];

  it.each(CONSTRAINTS)('%s with %s = %j is BAD_REQUEST naming the field', (op, field, value) => {
    const base = MINIMAL[op as keyof typeof MINIMAL];
    const error = rejected(decodeRequest(JSON.stringify({ ...base, ref: 23, [field]: value })));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.ref).toBe(23);
    expect(error.message.startsWith(`${field}: expected `)).toBe(true);
  });

  it('rejects a ttl that JSON parses to Infinity', () => {
    expect(rejected(decodeRequest('{"op":"create","ttl":1e999}'))).toMatchObject({ code: 'BAD_REQUEST', message: 'ttl: expected number' });
  });

  it('rejects create with join:false unless allowEmpty:true', () => {
    for (const request of [{ op: 'create', join: false }, { op: 'create', join: false, allowEmpty: false }]) {
      const error = rejected(decodeRequest(JSON.stringify({ ...request, ref: 30 })));
      expect(error).toMatchObject({ ref: 30, code: 'BAD_REQUEST' });
      expect(error.message).toMatch(/^join: /);
    }
  });
});
