import { describe, expect, it } from 'vitest';
import { RoomsError } from '@rooms-kit/contract';
import { decodeServerFrame, encodeRequest } from '../src/client.js';
import {
  decodeRequest,
  encodeBatch,
  encodeErrorReply,
  encodeEvent,
  encodeMessageEvent,
  encodeMessageEventJson,
  encodeReply,
} from '../src/server.js';
import type { Request, Result, ServerEvent } from '../src/server.js';

const member = { id: 's1', node: 'n1', user: 'u1', data: { name: 'ann' } };

describe('encodeReply', () => {
  it('writes {"ref","ok":true,...result} in that order', () => {
    const text = encodeReply(3, { group: 'g', members: [member] });
    expect(text).toBe(`{"ref":3,"ok":true,"group":"g","members":[${JSON.stringify(member)}]}`);
    expect(JSON.parse(text)).toEqual({ ref: 3, ok: true, group: 'g', members: [member] });
  });

  it('writes an empty result (ping) as {"ref":n,"ok":true}', () => {
    expect(encodeReply(0, {})).toBe('{"ref":0,"ok":true}');
    expect(encodeReply(-7, {})).toBe('{"ref":-7,"ok":true}');
  });

  it('writes every result shape of docs/protocol.md', () => {
    const results: Result[] = [
      { group: 'g', members: [], already: false, offset: 0, recovered: true },
      { group: 'g' },
      { recipients: 99, offset: 12 },
      { groups: ['a', 'b'], latest: 'b' },
      { groups: [], latest: null },
      { group: 'g', state: 'empty-grace', size: 0, nodes: ['n1'], meta: { a: 1 }, static: false },
    ];
    for (const result of results) {
      expect(JSON.parse(encodeReply(8, result))).toEqual({ ref: 8, ok: true, ...result });
    }
  });
});

describe('encodeErrorReply', () => {
  it('writes exactly {"ref","ok":false,"error":{"code","message","temporary"}} from a RoomsError', () => {
    const error = new RoomsError('RATE_LIMITED', 'slow down', { cause: new Error('secret internals') });
    const text = encodeErrorReply(4, error);
    expect(text).toBe('{"ref":4,"ok":false,"error":{"code":"RATE_LIMITED","message":"slow down","temporary":true}}');
    expect(text).not.toContain('secret');
  });

  it('writes "ref":null and accepts a plain WireError', () => {
    const text = encodeErrorReply(null, { code: 'BAD_REQUEST', message: 'invalid JSON', temporary: false });
    expect(JSON.parse(text)).toEqual({ ref: null, ok: false, error: { code: 'BAD_REQUEST', message: 'invalid JSON', temporary: false } });
  });

  it('round-trips through decodeRequest errors', () => {
    const result = decodeRequest('{"op":"join","ref":2}');
    if (result.ok) throw new Error('expected an error');
    expect(JSON.parse(encodeErrorReply(result.ref, result.error))).toEqual({
      ref: 2, ok: false, error: { code: 'BAD_REQUEST', message: 'group: required', temporary: false },
    });
  });
});

describe('encodeEvent', () => {
  const events: ServerEvent[] = [
    { ev: 'welcome', session: 's1', resumeToken: 't', node: 'n1', heartbeatMs: 25000, resumed: false },
    { ev: 'joined', group: 'g', member, data: { name: 'ann' } },
    { ev: 'left', group: 'g', member: { id: 's2', node: 'n2' }, reason: 'node-down' },
    { ev: 'message', group: 'g', from: null, data: [1, 2], offset: 1 },
    { ev: 'discarded', group: 'g', reason: 'admin' },
    { ev: 'rejoined', group: 'g', member },
    { ev: 'error', error: { code: 'INTERNAL', message: 'boom', temporary: false } },
  ];

  it.each(events.map((event) => [event.ev, event] as const))('%s parses back to the same event', (_ev, event) => {
    expect(JSON.parse(encodeEvent(event))).toEqual(event);
    expect(decodeServerFrame(encodeEvent(event))).toEqual([event]);
  });
});

describe('encodeMessageEvent', () => {
  it('is byte-identical to JSON.stringify of the event object', () => {
    const cases: [string, string | null, unknown, number][] = [
      ['room-1', 'sess-1', { text: 'hi', n: [1, 2, { deep: true }] }, 1],
      ['g', null, null, 42],
      ['g', 'a"b\\c', 'quote " and \u2028 and ✓', Number.MAX_SAFE_INTEGER],
      ['g', 's', 0, 7],
    ];
    for (const [group, from, data, offset] of cases) {
      expect(encodeMessageEvent(group, from, data, offset)).toBe(JSON.stringify({ ev: 'message', group, from, data, offset }));
    }
  });

  it('writes undefined data as null (valid JSON)', () => {
    expect(JSON.parse(encodeMessageEvent('g', null, undefined, 3))).toEqual({ ev: 'message', group: 'g', from: null, data: null, offset: 3 });
  });

  it('encodeMessageEventJson splices pre-encoded data verbatim', () => {
    const text = encodeMessageEventJson('g', 's1', '{"a":[1,2]}', 9);
    expect(text).toBe('{"ev":"message","group":"g","from":"s1","data":{"a":[1,2]},"offset":9}');
  });
});

describe('encodeBatch', () => {
  it('joins encoded frames into one JSON array frame', () => {
    const frames = [encodeReply(1, {}), encodeMessageEvent('g', 's', { x: 1 }, 5), encodeErrorReply(null, new RoomsError('UNKNOWN_OP'))];
    const batch = encodeBatch(frames);
    expect(batch).toBe(`[${frames[0]},${frames[1]},${frames[2]}]`);
    expect(JSON.parse(batch)).toEqual(frames.map((frame) => JSON.parse(frame)));
    expect(decodeServerFrame(batch)).toHaveLength(3);
  });

  it('writes an empty batch as []', () => {
    expect(encodeBatch([])).toBe('[]');
  });
});

describe('encodeRequest', () => {
  it('round-trips through decodeRequest', () => {
    const requests: Request[] = [
      { op: 'create', ref: 1, group: 'g', allowEmpty: true, join: false, ttl: 2, meta: { a: 1 } },
      { op: 'broadcast', ref: 2, group: 'g', data: { x: [1] }, self: true },
      { op: 'groups' },
    ];
    for (const request of requests) expect(decodeRequest(encodeRequest(request))).toEqual({ ok: true, request });
  });
});
