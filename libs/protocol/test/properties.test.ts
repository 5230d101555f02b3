import { exceedsPayloadDepth, isErrorCode, MAX_PAYLOAD_DEPTH, RoomsError } from '@rooms-kit/contract';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeServerFrame, encodeRequest } from '../src/client.js';
import type { RawFrame, Request, ServerMessage } from '../src/client.js';
import { EVENT_NAMES, LEAVE_REASONS, MAX_INTERVAL_MS, MAX_TTL_SECONDS, OPS, decodeRequest, isValidGroupId, peekRef } from '../src/server.js';
import { textExceedsPayloadDepth } from '../src/server/json-scan.js';

// Property-based tests of both decoders (fast-check). On a failure fast-check prints the seed, the path and the
// shrunk counterexample; `FC_SEED=<seed> FC_PATH=<path>` replays it, `FC_NUM_RUNS=<n>` runs more cases.

function parameters(numRuns: number): fc.Parameters<unknown> {
  const fromEnv = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const result: fc.Parameters<unknown> = { numRuns: fromEnv('FC_NUM_RUNS') ?? numRuns };
  const seed = fromEnv('FC_SEED');
  if (seed !== undefined) result.seed = seed;
  if (process.env.FC_PATH) result.path = process.env.FC_PATH;
  return result;
}

// ---- arbitraries: valid requests ----------------------------------------------------------------------------

const groupId = fc.stringMatching(/^[A-Za-z0-9_.:@/#=+-]{1,128}$/);
/** A payload well within the depth bound (fc's jsonValue nests at most `maxDepth` + 1 levels). */
const payload = fc.jsonValue({ maxDepth: 4 });
const meta = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });
const ref = fc.maxSafeInteger();
const positive = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.maxSafeNat().filter((n) => n >= 1));

const validRequest: fc.Arbitrary<Request> = fc.oneof(
  fc
    .record(
      {
        op: fc.constant('create' as const),
        ref,
        group: groupId,
        allowEmpty: fc.boolean(),
        join: fc.boolean(),
        ttl: fc.double({ min: 0, max: MAX_TTL_SECONDS, noNaN: true }),
        maxMembers: positive,
        interval: fc.integer({ min: 0, max: MAX_INTERVAL_MS }),
        meta,
        data: payload,
      },
      { requiredKeys: ['op'] },
    )
    // `join:false` needs `allowEmpty:true` (the group would be empty at once).
    .map((request) => (request.join === false ? { ...request, allowEmpty: true } : request)),
  fc.record({ op: fc.constant('join' as const), ref, group: groupId, data: payload, since: fc.maxSafeNat() }, { requiredKeys: ['op', 'group'] }),
  fc.record({ op: fc.constant('leave' as const), ref, group: groupId, data: payload }, { requiredKeys: ['op', 'group'] }),
  fc.record({ op: fc.constant('broadcast' as const), ref, group: groupId, data: payload, self: fc.boolean() }, { requiredKeys: ['op', 'group', 'data'] }),
  fc.record({ op: fc.constant('members' as const), ref, group: groupId }, { requiredKeys: ['op', 'group'] }),
  fc.record({ op: fc.constant('group' as const), ref, group: groupId }, { requiredKeys: ['op', 'group'] }),
  fc.record({ op: fc.constantFrom('groups' as const, 'ping' as const), ref }, { requiredKeys: ['op'] }),
);

// ---- arbitraries: hostile frames ----------------------------------------------------------------------------

/** Keys that mean something to JavaScript objects, for frames that try to reach a prototype. */
const trickyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf');
const fieldName = fc.oneof(
  fc.constantFrom('op', 'ref', 'group', 'data', 'allowEmpty', 'join', 'ttl', 'maxMembers', 'interval', 'meta', 'since', 'self'),
  trickyKey,
  fc.string({ unit: 'binary', maxLength: 12 }),
);
/** Values of every JSON type, with the edges of numbers and strings. */
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(0, -0, -1, 0.5, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_SAFE_INTEGER + 1, MAX_TTL_SECONDS + 1),
  fc.constantFrom('', ' ', 'g g', '{g}', 'a'.repeat(129), '\u0000', '\ud800', '\u{1F600}', 'é', '\u202e', 'ping', 'create'),
  fc.string({ unit: 'binary' }),
  fc.constant(null),
);
/** Tricky keys with values that would pollute a prototype if a decoder merged them into one. */
const trickyFields = fc.array(fc.tuple(trickyKey, fc.oneof(oddValue, fc.constant({ op: 'ping', polluted: true }))), { minLength: 1, maxLength: 4 });
const anyOp = fc.oneof(fc.constantFrom(...OPS), trickyKey, fc.string({ maxLength: 100 }), oddValue);

/**
 * A JSON object's text from key/value pairs, written by hand so that `__proto__` stays an ordinary key. Keys may repeat
 * (`JSON.parse` keeps the last), except `ref`: only its first is kept, since `peekRef` reads the first where the parse
 * keeps the last (documented: no client sends two).
 */
function objectText(entries: ReadonlyArray<readonly [string, unknown]>): string {
  const firstRef = entries.findIndex(([key]) => key === 'ref');
  const kept = entries.filter(([key], index) => key !== 'ref' || index === firstRef);
  return `{${kept.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`).join(',')}}`;
}

/** Random objects with an op (known, tricky or odd) and random fields of random types. */
const randomObjectFrame = fc
  .tuple(anyOp, fc.array(fc.tuple(fieldName, oddValue), { maxLength: 8 }))
  .map(([op, fields]) => objectText([['op', op], ...fields]));

/** A valid frame with one change: a field dropped, retyped, set to an edge value, or an extra (tricky) key. */
const mutatedFrame = fc
  .tuple(validRequest, fc.nat(), fc.constantFrom('drop', 'replace', 'add'), fc.oneof(fieldName, trickyKey), oddValue)
  .map(([request, index, change, key, value]) => {
    const entries: Array<readonly [string, unknown]> = Object.entries(request);
    const at = index % entries.length;
    if (change === 'drop') entries.splice(at, 1);
    else if (change === 'replace') entries[at] = [entries[at]?.[0] ?? 'op', value];
    else entries.splice(at, 0, [key, value]);
    return objectText(entries);
  });

/** A valid frame's text changed as bytes: cut, a character inserted, or a number pushed past double range. */
const mangledText = fc
  .tuple(
    validRequest,
    fc.nat(),
    fc.oneof(fc.string({ unit: 'binary', maxLength: 3 }), fc.constantFrom('1e999', '-1e999', '"', '{', ']', '\\', '\ufeff')),
    fc.boolean(),
  )
  .map(([request, index, insert, cut]) => {
    const text = encodeRequest(request);
    const at = index % (text.length + 1);
    return cut ? text.slice(0, at) : text.slice(0, at) + insert + text.slice(at);
  });

/** `levels` nested arrays or objects, as text (never built as a value: 100,000 levels would blow the stack). */
function nestedText(levels: number, kind: 'array' | 'object'): string {
  if (levels <= 0) return '0';
  return kind === 'array' ? '['.repeat(levels) + ']'.repeat(levels) : '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

const depth = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.integer({ min: 0, max: 100_000 }),
  fc.constantFrom(MAX_PAYLOAD_DEPTH, MAX_PAYLOAD_DEPTH + 1, 100_000),
);
/** A frame with one field nested deep: data or meta (payloads), op, ref, group or an extra field. */
const deepFrame = fc
  .tuple(fc.constantFrom(...OPS), fc.constantFrom('data', 'meta', 'op', 'ref', 'group', 'extra'), depth, fc.constantFrom('array' as const, 'object' as const))
  .map(([op, field, levels, kind]) => `{"op":"${op}","group":"g",${JSON.stringify(field)}:${nestedText(levels, kind)}}`);

/** Anything a socket may carry: text of every kind, and bytes (invalid UTF-8 included), whole or in fragments. */
const anyRequestFrame: fc.Arbitrary<RawFrame> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  randomObjectFrame,
  mutatedFrame,
  mangledText,
  fc.uint8Array({ maxLength: 64 }),
  fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 3 }),
);

// ---- checks -------------------------------------------------------------------------------------------------

/** What every result of decodeRequest must be: a well-formed request, or a catalog refusal fit to send back. */
function expectSound(raw: RawFrame): void {
  let result: ReturnType<typeof decodeRequest>;
  try {
    result = decodeRequest(raw);
  } catch (error) {
    throw new Error(`decodeRequest threw ${String(error)}`);
  }
  if (result.ok) {
    expectWellFormed(result.request as unknown as Record<string, unknown>);
    // The ref a refusal before decoding (rate limit) would carry is the accepted request's.
    expect(peekRef(raw)).toBe(result.request.ref ?? null);
    return;
  }
  expect(result.error).toBeInstanceOf(RoomsError);
  expect(isErrorCode(result.error.code)).toBe(true);
  expect(['BAD_REQUEST', 'UNKNOWN_OP']).toContain(result.error.code);
  // A hostile frame cannot make the reply echo much of itself (an unknown op is cut to 64 characters, then escaped).
  expect(result.error.message.length).toBeLessThan(512);
  expect(result.ref === null || Number.isSafeInteger(result.ref)).toBe(true);
}

/** An accepted request holds what its op needs, with the types and ranges of docs/protocol.md. */
function expectWellFormed(request: Record<string, unknown>): void {
  const { op } = request;
  expect(OPS).toContain(op);
  const has = (key: string) => Object.prototype.hasOwnProperty.call(request, key);
  // No field of an accepted request nests deeper than the bound.
  for (const value of Object.values(request)) expect(exceedsPayloadDepth(value)).toBe(false);
  if (has('ref')) expect(Number.isSafeInteger(request.ref)).toBe(true);
  if (op !== 'groups' && op !== 'ping' && (op !== 'create' || has('group'))) expect(isValidGroupId(request.group)).toBe(true);
  if (op === 'broadcast') expect(has('data')).toBe(true);
  if (op === 'create') {
    if (request.join === false) expect(request.allowEmpty).toBe(true);
    if (has('ttl')) expect(request.ttl).toBeLessThanOrEqual(MAX_TTL_SECONDS);
    if (has('maxMembers')) expect(Number.isSafeInteger(request.maxMembers) && (request.maxMembers as number) >= 1).toBe(true);
    if (has('meta')) expect(typeof request.meta === 'object' && request.meta !== null && !Array.isArray(request.meta)).toBe(true);
  }
}

// ---- decodeRequest ------------------------------------------------------------------------------------------

describe('decodeRequest (properties)', () => {
  it('never throws; refuses with BAD_REQUEST or UNKNOWN_OP of the catalog (never INTERNAL); accepts only well-formed requests', () => {
    fc.assert(fc.property(anyRequestFrame, (raw) => expectSound(raw)), parameters(2000));
  });

  it('decodes every valid request, as the client encodes it, to the same request', () => {
    fc.assert(
      fc.property(validRequest, (request) => {
        const result = decodeRequest(encodeRequest(request));
        if (!result.ok) throw new Error(`refused ${result.error.code}: ${result.error.message}`);
        expect(result.request).toEqual(JSON.parse(JSON.stringify(request)));
      }),
      parameters(1000),
    );
  });

  it('keeps the ref of a refused frame whose ref was a safe integer', () => {
    fc.assert(
      fc.property(ref, anyOp, fc.array(fc.tuple(fieldName, oddValue), { maxLength: 4 }), (number, op, fields) => {
        const result = decodeRequest(objectText([['ref', number], ['op', op], ...fields.filter(([key]) => key !== 'ref')]));
        if (!result.ok) expect(result.ref).toBe(number);
      }),
      parameters(500),
    );
  });

  it('survives any field nested up to 100,000 levels deep', () => {
    fc.assert(fc.property(deepFrame, (text) => expectSound(text)), parameters(60));
  });

  it('changes no prototype, whatever the keys of a frame', () => {
    fc.assert(
      fc.property(trickyFields, fc.constantFrom(...OPS), (fields, op) => {
        expectSound(objectText([['op', op], ...fields]));
        expect(Object.prototype).not.toHaveProperty('polluted');
        expect(({} as Record<string, unknown>).op).toBeUndefined();
      }),
      parameters(300),
    );
  });
});

describe('decodeRequest: the payload depth bound (MAX_PAYLOAD_DEPTH)', () => {
  const payloadField = fc.constantFrom(
    { op: 'broadcast', field: 'data' },
    { op: 'join', field: 'data' },
    { op: 'leave', field: 'data' },
    { op: 'create', field: 'data' },
    { op: 'create', field: 'meta' },
  );

  it('refuses data or meta nested deeper than the bound with BAD_REQUEST, up to 100,000 levels, and accepts the bound itself', () => {
    fc.assert(
      fc.property(payloadField, fc.integer({ min: 1, max: 100_000 }), fc.constantFrom('array' as const, 'object' as const), ({ op, field }, levels, kind) => {
        // meta must be an object at its top level.
        const value = field === 'meta' ? `{"m":${nestedText(levels - 1, kind)}}` : nestedText(levels, kind);
        const result = decodeRequest(`{"op":"${op}","ref":1,"group":"g",${JSON.stringify(field)}:${value}}`);
        if (levels <= MAX_PAYLOAD_DEPTH) {
          expect(result.ok).toBe(true);
        } else {
          expect(result).toMatchObject({ ok: false, ref: 1, error: { code: 'BAD_REQUEST' } });
        }
      }),
      { ...parameters(80), examples: [[{ op: 'broadcast', field: 'data' }, MAX_PAYLOAD_DEPTH + 1, 'array']] },
    );
  });
});

// ---- decodeServerFrame --------------------------------------------------------------------------------------

const member = fc.record({ id: fc.string(), node: fc.string(), user: fc.string(), data: payload }, { requiredKeys: ['id', 'node'] });
const wireError = fc.record({ code: fc.constantFrom('BAD_REQUEST', 'GROUP_FULL', 'RATE_LIMITED', 'INTERNAL'), message: fc.string(), temporary: fc.boolean() });
const validServerMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record({
    ev: fc.constant('welcome' as const),
    session: fc.string(),
    resumeToken: fc.string(),
    node: fc.string(),
    heartbeatMs: fc.nat(),
    resumed: fc.boolean(),
  }),
  fc.record(
    { ev: fc.constantFrom('joined' as const, 'rejoined' as const), group: groupId, member, data: payload },
    { requiredKeys: ['ev', 'group', 'member'] },
  ),
  fc.record(
    { ev: fc.constant('left' as const), group: groupId, member, reason: fc.constantFrom(...LEAVE_REASONS), data: payload },
    { requiredKeys: ['ev', 'group', 'member', 'reason'] },
  ),
  fc.record({ ev: fc.constant('message' as const), group: groupId, from: fc.option(fc.string(), { nil: null }), data: payload, offset: fc.maxSafeNat() }),
  fc.record({ ev: fc.constant('discarded' as const), group: groupId, reason: fc.constant('admin' as const) }),
  fc.record({ ev: fc.constant('error' as const), error: wireError }),
  fc.record({ ref, ok: fc.constant(true as const), group: groupId, offset: fc.maxSafeNat() }),
  fc.record({ ref: fc.option(ref, { nil: null }), ok: fc.constant(false as const), error: wireError }),
);

/** Server messages with one field dropped, retyped or set to an edge value, or with an odd `ev`. */
const mutatedServerMessage = fc
  .tuple(
    validServerMessage,
    fc.nat(),
    fc.constantFrom('drop', 'replace', 'add'),
    fc.oneof(fc.constantFrom('ev', 'ok', 'ref', 'error', 'member', 'offset', 'reason'), trickyKey),
    oddValue,
  )
  .map(([message, index, change, key, value]) => {
    const entries: Array<readonly [string, unknown]> = Object.entries(message);
    const at = index % entries.length;
    if (change === 'drop') entries.splice(at, 1);
    else if (change === 'replace') entries[at] = [entries[at]?.[0] ?? 'ev', value];
    else entries.splice(at, 0, [key, value]);
    return objectText(entries);
  });

const anyServerFrame: fc.Arbitrary<RawFrame> = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  mutatedServerMessage,
  fc
    .array(fc.oneof(mutatedServerMessage, validServerMessage.map((message) => JSON.stringify(message))), { maxLength: 4 })
    .map((items) => `[${items.join(',')}]`),
  fc
    .tuple(fc.constantFrom(...EVENT_NAMES, 'future', '__proto__'), fc.array(fc.tuple(fieldName, oddValue), { maxLength: 6 }))
    .map(([ev, fields]) => objectText([['ev', ev], ...fields])),
  // Mostly shallow: a 100,000-level frame costs a client parse each (the client has no depth bound; it trusts its server).
  fc
    .tuple(
      fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 100 }) }, { weight: 1, arbitrary: fc.constant(100_000) }),
      fc.constantFrom('array' as const, 'object' as const),
    )
    .map(([levels, kind]) => nestedText(levels, kind)),
  fc.uint8Array({ maxLength: 64 }),
);

/**
 * Every message decodeServerFrame hands out is an event it knows or a reply; an `error` event and an error reply carry
 * a catalog code (an unknown one became INTERNAL). Other fields, `error` on other messages included, are the sender's.
 */
function expectKnownMessages(messages: ServerMessage[]): void {
  for (const message of messages) {
    const record = message as unknown as Record<string, unknown>;
    if ('ev' in message) expect(EVENT_NAMES).toContain(message.ev);
    else expect(typeof record.ok).toBe('boolean');
    // A message with `ev` is an event whatever else it holds (an `ok` field on it is the sender's, like any other).
    if (record.ev === 'error' || (!('ev' in message) && record.ok === false)) expect(isErrorCode((record.error as { code?: unknown }).code)).toBe(true);
  }
}

describe('decodeServerFrame (properties)', () => {
  it('throws nothing but ProtocolError, and hands out only known, checked messages', () => {
    fc.assert(
      fc.property(anyServerFrame, (raw) => {
        try {
          expectKnownMessages(decodeServerFrame(raw));
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
        }
      }),
      parameters(1000),
    );
  });

  it('with onMalformed, throws only for a frame that is not JSON, and reports each malformed message', () => {
    fc.assert(
      fc.property(anyServerFrame, (raw) => {
        const malformed: unknown[] = [];
        let messages: ServerMessage[];
        try {
          messages = decodeServerFrame(raw, (error) => malformed.push(error));
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          expect((error as ProtocolError).message).toBe('frame is not valid JSON');
          return;
        }
        expectKnownMessages(messages);
        for (const error of malformed) expect(error).toBeInstanceOf(ProtocolError);
      }),
      parameters(1000),
    );
  });

  it('decodes every valid frame (one message or a batch) to the same messages', () => {
    fc.assert(
      fc.property(fc.array(validServerMessage, { minLength: 1, maxLength: 5 }), fc.boolean(), (messages, batch) => {
        const sent = batch ? messages : messages.slice(0, 1);
        const text = JSON.stringify(batch ? sent : sent[0]);
        expect(decodeServerFrame(text)).toEqual(JSON.parse(JSON.stringify(sent)));
      }),
      parameters(1000),
    );
  });
});

/** JSON values whose strings and keys are full of brackets, quotes and backslashes (what a text scan must skip). */
const bracketString = fc.string({ unit: fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', 'a', '\u00e9'), maxLength: 8 });
const bracketJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 12 },
    bracketString,
    fc.integer(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(bracketString, tie('value'), { maxKeys: 3 }),
  ),
})).value;

describe('textExceedsPayloadDepth (properties)', () => {
  it('says of the JSON text what exceedsPayloadDepth says of the value, brackets in strings and keys aside', () => {
    fc.assert(
      fc.property(bracketJson, fc.integer({ min: 0, max: 8 }), (value, limit) => {
        expect(textExceedsPayloadDepth(JSON.stringify(value), limit)).toBe(exceedsPayloadDepth(value, limit));
      }),
      parameters(1000),
    );
  });

  it('lets decodeRequest accept a shallow payload whatever brackets its strings hold', () => {
    fc.assert(
      fc.property(fc.array(bracketString, { maxLength: 4 }), bracketString, (strings, key) => {
        const result = decodeRequest(objectText([['op', 'broadcast'], ['ref', 1], ['group', 'g'], ['data', { [key]: strings }]]));
        expect(result.ok).toBe(true);
      }),
      parameters(500),
    );
  });
});

// The depth helper of the contract is what the bound above relies on: keep both in one place of the tests.
it('exceedsPayloadDepth agrees with the nesting the depth properties build', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2000 }), fc.constantFrom('array' as const, 'object' as const), (levels, kind) => {
      const value: unknown = JSON.parse(nestedText(levels, kind));
      expect(exceedsPayloadDepth(value)).toBe(levels > MAX_PAYLOAD_DEPTH);
    }),
    parameters(100),
  );
});
