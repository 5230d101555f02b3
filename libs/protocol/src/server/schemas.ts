import { Type } from '@sinclair/typebox';
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { GROUP_ID_PATTERN, MAX_GROUP_ID_LENGTH, MAX_INTERVAL_MS, MAX_TTL_SECONDS } from '../constants.js';
import type { Op } from '../constants.js';
import type { JsonObject, RequestFields } from '../types.js';

// Field schemas. `errorMessage` (a keyword TypeBox keeps but ignores) is the text of a BAD_REQUEST when the field
// has the right JSON type but breaks a constraint; see describeFirstError in decode-request.ts.

const GroupId = Type.String({
  minLength: 1,
  maxLength: MAX_GROUP_ID_LENGTH,
  pattern: GROUP_ID_PATTERN.source,
  errorMessage: `expected 1 to ${MAX_GROUP_ID_LENGTH} characters of A-Z a-z 0-9 _ . : @ / # = + -`,
});
// Any JSON value, null included. Never walked: the payload is forwarded as parsed.
const Data = Type.Unknown();
// A plain JSON object; values are not walked (a Record schema would test every key against a pattern).
const Meta = Type.Unsafe<JsonObject>(Type.Object({}));
const Ttl = Type.Number({
  minimum: 0,
  maximum: MAX_TTL_SECONDS,
  errorMessage: `expected a number of seconds from 0 to ${MAX_TTL_SECONDS}`,
});
const MaxMembers = Type.Integer({
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  errorMessage: 'expected a positive integer',
});
const Interval = Type.Integer({
  minimum: 0,
  maximum: MAX_INTERVAL_MS,
  errorMessage: `expected an integer from 0 to ${MAX_INTERVAL_MS}`,
});
const Offset = Type.Integer({
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  errorMessage: 'expected a non-negative integer',
});

/**
 * The fields of each op (without `op` and `ref`, which decodeRequest checks before dispatching). Unknown extra
 * fields are allowed (forward compatibility); known fields of the wrong type are not.
 */
export const FIELD_SCHEMAS = {
  create: Type.Object({
    group: Type.Optional(GroupId),
    allowEmpty: Type.Optional(Type.Boolean()),
    join: Type.Optional(Type.Boolean()),
    ttl: Type.Optional(Ttl),
    maxMembers: Type.Optional(MaxMembers),
    interval: Type.Optional(Interval),
    meta: Type.Optional(Meta),
    data: Type.Optional(Data),
  }),
  join: Type.Object({ group: GroupId, data: Type.Optional(Data), since: Type.Optional(Offset) }),
  leave: Type.Object({ group: GroupId, data: Type.Optional(Data) }),
  broadcast: Type.Object({ group: GroupId, data: Data, self: Type.Optional(Type.Boolean()) }),
  members: Type.Object({ group: GroupId }),
  groups: Type.Object({}),
  group: Type.Object({ group: GroupId }),
  ping: Type.Object({}),
} as const satisfies Record<Op, TObject>;

/** A compiled checker of one op's fields. */
export type FieldCheck = TypeCheck<TSchema>;

let compiled: Map<string, FieldCheck> | undefined;

/**
 * The compiled checkers, by op. Compiled on first use, not at import: compiling costs time and uses `new Function`
 * (which a page with a strict CSP forbids), and a program may import the `.` entry without ever decoding requests.
 * A Map, so that ops like `__proto__` or `toString` are simply unknown.
 */
export function fieldCheckers(): ReadonlyMap<string, FieldCheck> {
  if (compiled === undefined) {
    compiled = new Map();
    for (const [op, schema] of Object.entries(FIELD_SCHEMAS)) compiled.set(op, TypeCompiler.Compile(schema));
  }
  return compiled;
}

// Compile-time proof that the schemas and the hand-written request types of types.ts say the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
type Fields<O extends Op> = Static<(typeof FIELD_SCHEMAS)[O]>;
export type _SchemasMatchTypes = Assert<
  Same<Fields<'create'>, RequestFields<'create'>> &
    Same<Fields<'join'>, RequestFields<'join'>> &
    Same<Fields<'leave'>, RequestFields<'leave'>> &
    Same<Fields<'broadcast'>, RequestFields<'broadcast'>> &
    Same<Fields<'members'>, RequestFields<'members'>> &
    Same<Fields<'groups'>, RequestFields<'groups'>> &
    Same<Fields<'group'>, RequestFields<'group'>> &
    Same<Fields<'ping'>, RequestFields<'ping'>>
>;
