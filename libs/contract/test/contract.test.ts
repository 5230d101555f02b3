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
  RoomsError,
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
    expect(DEFAULT_LIMITS).toEqual({ maxPayloadBytes: 65_536, rateLimitPerSecond: 200, maxOutboundBytes: 1_048_576, maxGroupsPerSession: 1000 });
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
