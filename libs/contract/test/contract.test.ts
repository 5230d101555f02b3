import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  DEFAULT_LIMITS,
  DISCARD_REASONS,
  ERROR_CATALOG,
  ERROR_CODES,
  GROUP_STATES,
  LEAVE_REASONS,
  MAX_PAYLOAD_DEPTH,
  RoomsError,
  exceedsPayloadDepth,
  isErrorCode,
  isValidGroupId,
  toRoomsError,
} from '../src/index.js';

const root = join(import.meta.dirname, '..');

describe('the error catalog', () => {
  it('has exactly the codes of the wire protocol, each with its temporary flag', () => {
    expect(ERROR_CODES).toEqual([
      'BAD_REQUEST', 'UNKNOWN_OP', 'GROUP_NOT_FOUND', 'GROUP_EXISTS', 'NOT_MEMBER', 'GROUP_FULL', 'FORBIDDEN',
      'RATE_LIMITED', 'PAYLOAD_TOO_LARGE', 'NODE_DRAINING', 'UNAVAILABLE', 'SESSION_NOT_FOUND', 'INTERNAL',
    ]);
    const temporary = ERROR_CODES.filter((code) => ERROR_CATALOG[code].temporary);
    expect(temporary).toEqual(['RATE_LIMITED', 'NODE_DRAINING', 'UNAVAILABLE']);
  });

  it('RoomsError carries code, catalog message and temporary; the wire form drops the cause', () => {
    const cause = new Error('redis went away');
    const error = new RoomsError('UNAVAILABLE', undefined, { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RoomsError');
    expect(error.cause).toBe(cause);
    expect(error.toWire()).toEqual({ code: 'UNAVAILABLE', message: ERROR_CATALOG.UNAVAILABLE.message, temporary: true });
    expect(new RoomsError('FORBIDDEN', 'VIPs only').toWire()).toEqual({ code: 'FORBIDDEN', message: 'VIPs only', temporary: false });
  });

  it('toRoomsError keeps coded errors and makes anything else INTERNAL with the original as cause', () => {
    const coded = new RoomsError('GROUP_FULL');
    expect(toRoomsError(coded)).toBe(coded);
    const plain = new TypeError('boom');
    const wrapped = toRoomsError(plain);
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.cause).toBe(plain);
    expect(wrapped.message).not.toContain('boom');
  });

  it('isErrorCode accepts catalog codes only, not inherited keys', () => {
    expect(isErrorCode('GROUP_EXISTS')).toBe(true);
    for (const value of ['toString', '__proto__', 'constructor', 'group_exists', 5, null]) expect(isErrorCode(value)).toBe(false);
  });
});

describe('ids, reasons, close codes and limits', () => {
  it('group ids follow the id rules', () => {
    for (const id of ['a', 'room-1', 'a.b:c@d/e#f=g+h_i', 'x'.repeat(128)]) expect(isValidGroupId(id)).toBe(true);
    for (const id of ['', 'x'.repeat(129), 'a b', '{a}', 'a\tb', 'é', 5, null, undefined]) expect(isValidGroupId(id)).toBe(false);
  });

  it('reasons, states and close codes are the protocol’s', () => {
    expect(LEAVE_REASONS).toEqual(['leave', 'disconnect', 'node-down', 'kicked']);
    expect(DISCARD_REASONS).toEqual(['admin']);
    expect(GROUP_STATES).toEqual(['created', 'active', 'empty-grace']);
    expect(CloseCode).toEqual({
      NORMAL: 1000, GOING_AWAY: 1001, POLICY: 1008, TOO_LARGE: 1009, PROTOCOL_VIOLATION: 4000,
      RESUME_FAILED: 4001, KICKED: 4003, SLOW_CONSUMER: 4008, RATE_LIMITED: 4029,
    });
    expect(DEFAULT_LIMITS).toEqual({
      maxPayloadBytes: 65_536, rateLimitPerSecond: 200, maxOutboundBytes: 1_048_576, maxGroupsPerSession: 1000,
      maxCreatedGroupsPerSession: 100, maxGroups: 100_000, maxMemberDataBytes: 4096, maxMetaBytes: 4096, historyMaxBytes: 1_048_576,
    });
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });
});

describe('the package', () => {
  it('depends on nothing and imports nothing outside itself', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: object; peerDependencies?: object };
    expect(Object.keys(manifest.dependencies ?? {})).toEqual([]);
    expect(manifest.peerDependencies).toBeUndefined();
    for (const file of readdirSync(join(root, 'src'))) {
      const source = readFileSync(join(root, 'src', file), 'utf8');
      const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'/g)].map((match) => match[1]);
      expect(specifiers.filter((specifier) => !specifier?.startsWith('./')), file).toEqual([]);
    }
  });
});

describe('payload depth', () => {
  const nested = (levels: number, leaf: unknown = 1): unknown => {
    let value: unknown = leaf;
    for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value };
    return value;
  };

  it('counts objects and arrays, not scalars, and accepts exactly the limit', () => {
    expect(exceedsPayloadDepth('text')).toBe(false);
    expect(exceedsPayloadDepth(null)).toBe(false);
    expect(exceedsPayloadDepth({})).toBe(false);
    expect(exceedsPayloadDepth(nested(MAX_PAYLOAD_DEPTH))).toBe(false);
    expect(exceedsPayloadDepth(nested(MAX_PAYLOAD_DEPTH + 1))).toBe(true);
    expect(exceedsPayloadDepth(nested(3), 2)).toBe(true);
    const wide = { wide: Array.from({ length: 1000 }, () => ({ a: [1] })) };
    expect(exceedsPayloadDepth(wide, 4)).toBe(false);
    expect(exceedsPayloadDepth(wide, 3)).toBe(true);
  });

  it('measures a value nested 100,000 levels without overflowing the stack', () => {
    expect(exceedsPayloadDepth(nested(100_000))).toBe(true);
  });

  it('treats a cycle as too deep, and a shared object that is no cycle as what it is', () => {
    const cyclic: Record<string, unknown> = { inner: {} };
    (cyclic.inner as Record<string, unknown>).back = cyclic;
    expect(exceedsPayloadDepth(cyclic)).toBe(true);
    const shared = { x: 1 };
    expect(exceedsPayloadDepth({ a: shared, b: [shared, shared] })).toBe(false);
  });
});
