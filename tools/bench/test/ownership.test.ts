import { describe, expect, it } from 'vitest';
import { ackMemberOf, checkSplit, ownerOf, sendersOwnedBy } from '../src/load/ownership.js';

describe('splitting a group over client processes', () => {
  it('gives one driver everything', () => {
    const split = { members: 100, senders: 10, drivers: 1 };
    expect(new Set(Array.from({ length: 100 }, (_, i) => ownerOf(i, split)))).toEqual(new Set([0]));
    expect(ackMemberOf(0, split)).toBe(99);
    expect(sendersOwnedBy(0, split)).toBe(10);
  });

  it('gives each of two drivers its own acknowledging member and half the senders', () => {
    const split = { members: 10, senders: 8, drivers: 2 };
    expect(ackMemberOf(0, split)).toBe(8);
    expect(ackMemberOf(1, split)).toBe(9);
    expect(ownerOf(8, split)).toBe(0);
    expect(ownerOf(9, split)).toBe(1);
    expect(sendersOwnedBy(0, split) + sendersOwnedBy(1, split)).toBe(8);
    expect(sendersOwnedBy(0, split)).toBe(4);
    const owned = Array.from({ length: 10 }, (_, i) => ownerOf(i, split));
    expect(owned.filter((d) => d === 0)).toHaveLength(5);
  });

  it('refuses splits where a sender would acknowledge or a driver would have no sender', () => {
    expect(() => checkSplit({ members: 10, senders: 9, drivers: 2 })).toThrow(/do not fit/);
    expect(() => checkSplit({ members: 10, senders: 1, drivers: 2 })).toThrow(/at least one sender/);
    expect(() => checkSplit({ members: 10, senders: 8, drivers: 2 })).not.toThrow();
  });
});
