import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  GROUP_ID_PATTERN,
  GROUP_STATES,
  LEAVE_REASONS,
  OPS,
  PROTOCOL_PATH,
  isValidGroupId,
} from '../src/client.js';

describe('constants', () => {
  it('match docs/protocol.md', () => {
    expect(PROTOCOL_PATH).toBe('/v1');
    expect(OPS).toEqual(['create', 'join', 'leave', 'broadcast', 'members', 'groups', 'group', 'ping']);
    expect(LEAVE_REASONS).toEqual(['leave', 'disconnect', 'node-down', 'kicked']);
    expect(GROUP_STATES).toEqual(['created', 'active', 'empty-grace']);
    expect(CloseCode).toEqual({
      NORMAL: 1000, GOING_AWAY: 1001, POLICY: 1008, TOO_LARGE: 1009, PROTOCOL_VIOLATION: 4000,
      RESUME_FAILED: 4001, KICKED: 4003, SLOW_CONSUMER: 4008, RATE_LIMITED: 4029,
    });
  });

  it('isValidGroupId follows the id rules', () => {
    for (const id of ['a', 'room-1', 'a.b:c@d/e#f=g+h_i', 'x'.repeat(128)]) expect(isValidGroupId(id)).toBe(true);
    for (const id of ['', 'x'.repeat(129), 'a b', '{a}', 'a\tb', 'é', 5, null, undefined]) expect(isValidGroupId(id)).toBe(false);
    expect(GROUP_ID_PATTERN.test('{x}')).toBe(false);
  });
});
