import { describe, expect, it } from 'vitest';
import type { GroupSnapshot, MemberInfo, ReplicaEvent, StoredMessage } from '../../src/index.js';
import { recoveryDelayMs, recoveryEvents } from '../../src/index.js';

const spec = { id: 'g', allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
const m = (id: string, node = 'n1'): MemberInfo => ({ id, node });

function watch(lastV: number, offset: number, members: MemberInfo[], queue: ReplicaEvent[] = []) {
  return { group: 'g', lastV, offset, members: new Map(members.map((x) => [x.id, x])), queue };
}

function snap(v: number, offset: number, members: MemberInfo[]): GroupSnapshot {
  return { spec, members, offset, v, everActive: true };
}

function stored(offset: number): StoredMessage {
  return { group: 'g', from: 's', data: offset, offset, self: false };
}

describe('recoveryEvents', () => {
  it('fills lost messages exactly, keeping the received events and their versions', () => {
    const received: ReplicaEvent = { type: 'message', group: 'g', v: 5, from: 's', data: 4, offset: 4, self: false };
    const events = recoveryEvents(watch(2, 1, [m('a')], [received]), snap(5, 4, [m('a')]), [stored(2), stored(3), stored(4)], 'n1');
    expect(events.map((e) => [e.v, e.type === 'message' ? e.offset : null])).toEqual([
      [3, 2],
      [4, 3],
      [5, 4],
    ]);
    expect(events[2]).toBe(received);
  });

  it('adds the membership changes the received events do not explain, with reasons like the kernel resync', () => {
    const events = recoveryEvents(watch(1, 0, [m('a', 'me'), m('b', 'n2'), m('c', 'n2')]), snap(5, 0, [m('c', 'n3'), m('d')]), [], 'me');
    expect(events).toEqual([
      { type: 'left', group: 'g', v: 2, member: m('a', 'me'), reason: 'disconnect', size: 2 },
      { type: 'left', group: 'g', v: 3, member: m('b', 'n2'), reason: 'node-down', size: 1 },
      { type: 'rejoined', group: 'g', v: 4, member: m('c', 'n3'), previousNode: 'n2', size: 1 },
      { type: 'joined', group: 'g', v: 5, member: m('d'), size: 2 },
    ]);
  });

  it('gives the last event the snapshot version when changes were folded', () => {
    const events = recoveryEvents(watch(1, 0, []), snap(4, 0, [m('a')]), [], 'me');
    expect(events).toEqual([{ type: 'joined', group: 'g', v: 4, member: m('a'), size: 1 }]);
  });

  it('emits nothing when the snapshot is not ahead, and one `discarded` when the group is gone', () => {
    expect(recoveryEvents(watch(3, 0, []), snap(3, 0, []), [], 'me')).toEqual([]);
    const queued: ReplicaEvent = { type: 'discarded', group: 'g', v: 9, reason: 'admin' };
    expect(recoveryEvents(watch(3, 0, [], [queued]), null, [], 'me')).toEqual([{ type: 'discarded', group: 'g', v: 9, reason: 'admin' }]);
    expect(recoveryEvents(watch(3, 0, []), null, [], 'me')).toEqual([{ type: 'discarded', group: 'g', v: 4, reason: 'empty' }]);
  });
});

describe('recoveryDelayMs', () => {
  it('recovers the first gap at once, then backs off doubling up to 2 s', () => {
    expect([1, 2, 3, 4, 5, 10, 100].map(recoveryDelayMs)).toEqual([0, 50, 100, 200, 400, 2000, 2000]);
  });
});
