import { describe, expect, it } from 'vitest';
import { RoomsError } from '@rooms-kit/core';
import { decodeEnvelope, encodeEnvelope } from '../../src/bus-codec.js';
import { decodeEvent, decodeStoredMember, encodeData, encodeMemberRest, encodeOptionalData } from '../../src/event-codec.js';
import { toStoreError } from '../../src/errors.js';
import { RedisKeys } from '../../src/keys.js';
import { parseRedisUrl } from '../../src/redis-url.js';

describe('event codec', () => {
  it('decodes every well-formed event and rejects malformed ones', () => {
    const member = { id: 's', node: 'n', user: 'u', data: { x: 1 } };
    const good = [
      { type: 'joined', group: 'g', v: 1, member, size: 1 },
      { type: 'left', group: 'g', v: 2, member, reason: 'node-down', size: 0, data: null },
      { type: 'rejoined', group: 'g', v: 3, member, previousNode: null, size: 1 },
      { type: 'message', group: 'g', v: 4, from: null, data: [1], offset: 1, self: true },
      { type: 'discarded', group: 'g', v: 5, reason: 'admin' },
    ];
    for (const event of good) expect(decodeEvent(JSON.stringify(event))).toEqual(event);
    const bad = [
      'nope',
      '[]',
      '{"type":"joined","group":"g","v":0,"member":{"id":"s","node":"n"},"size":1}',
      '{"type":"left","group":"g","v":1,"member":{"id":"s","node":"n"},"reason":"bored","size":0}',
      '{"type":"message","group":"g","v":1,"from":3,"data":1,"offset":1,"self":true}',
      '{"type":"discarded","group":"g","v":1,"reason":"whim"}',
      '{"type":"other","group":"g","v":1}',
      '{"type":"joined","group":"g","v":1,"member":{"id":"s"},"size":1}',
    ];
    for (const text of bad) expect(decodeEvent(text), text).toBeNull();
  });

  it('encodes members and payloads', () => {
    // The stored rest carries neither the id (the hash field) nor the node (before the newline).
    expect(encodeMemberRest({ id: 's', node: 'n', user: 'u' })).toBe('{"user":"u"}');
    expect(encodeMemberRest({ id: 's', node: 'n' })).toBe('');
    expect(decodeStoredMember('s', `n\n${encodeMemberRest({ id: 's', node: 'n', data: 'd' })}`)).toEqual({ id: 's', node: 'n', data: 'd' });
    expect(decodeStoredMember('s', 'n\n')).toEqual({ id: 's', node: 'n' });
    // A record of the earlier format (id inside the rest) still reads, the field's id winning.
    expect(decodeStoredMember('s', 'n\n{"id":"s","user":"u"}')).toEqual({ id: 's', node: 'n', user: 'u' });
    expect(decodeStoredMember('s', 'n\nnot json')).toBeNull();
    expect(decodeStoredMember('s', '{"id":"s","node":"n"}')).toBeNull();
    expect(encodeData(undefined)).toBe('null');
    expect(encodeOptionalData(undefined)).toBe('');
    expect(encodeOptionalData(null)).toBe('null');
  });
});

describe('bus codec', () => {
  it('round-trips requests and replies, and rejects malformed envelopes', () => {
    const good = [
      { t: 'req', id: 0, from: 'n1', body: { type: 'kick', session: 's' } },
      { t: 'req', id: 1, from: 'n1' },
      { t: 'rep', id: 2, ok: true, body: [1, null] },
      { t: 'rep', id: 3, ok: true },
      { t: 'rep', id: 4, ok: false, error: { code: 'FORBIDDEN', message: 'no' } },
    ] as const;
    for (const envelope of good) expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    const bad = [
      'nope',
      '[]',
      '{"t":"req","id":-1,"from":"n"}',
      '{"t":"req","id":1.5,"from":"n"}',
      '{"t":"req","id":1}',
      '{"t":"rep","id":1}',
      '{"t":"rep","id":1,"ok":false,"error":{"code":"NOPE","message":"x"}}',
      '{"t":"rep","id":1,"ok":false,"error":{"code":"INTERNAL"}}',
      '{"t":"other","id":1}',
    ];
    for (const text of bad) expect(decodeEnvelope(text), text).toBeNull();
    expect(() => encodeEnvelope({ t: 'req', id: 5, from: 'n', body: 1n })).toThrow(TypeError);
  });
});

describe('Redis URL', () => {
  it('reads one Redis or the seed nodes of a cluster', () => {
    expect(parseRedisUrl('redis://h:1')).toEqual({ mode: 'single', url: 'redis://h:1' });
    expect(parseRedisUrl('redis+cluster://a:1,b:2')).toEqual({ mode: 'cluster', nodes: [{ host: 'a', port: 1 }, { host: 'b', port: 2 }], tls: false });
    expect(parseRedisUrl('rediss+cluster://u:p%40ss@a:1/')).toEqual({ mode: 'cluster', nodes: [{ host: 'a', port: 1 }], tls: true, username: 'u', password: 'p@ss' });
    expect(() => parseRedisUrl('http://x')).toThrow(TypeError);
    expect(() => parseRedisUrl('redis+cluster://a:port')).toThrow(TypeError);
  });
});

describe('keys and errors', () => {
  it('hash-tags every key of a group alike and finds the group of a channel', () => {
    const keys = new RedisKeys('rooms:');
    const g = keys.group('room/1');
    for (const key of Object.values(g)) expect(key).toContain('{g:room/1}');
    expect(keys.groupOfChannel(g.channel)).toBe('room/1');
    expect(keys.groupOfChannel('rooms:node:x:ctl')).toBeNull();
  });

  it('maps Redis failures to UNAVAILABLE and script failures to INTERNAL', () => {
    expect(toStoreError(new Error('Connection is closed.')).code).toBe('UNAVAILABLE');
    expect(toStoreError(new Error('Command timed out')).code).toBe('UNAVAILABLE');
    expect(toStoreError(new Error('ERR user_script:3: Script attempted to access nonexistent global variable')).code).toBe('INTERNAL');
    const own = new RoomsError('GROUP_FULL');
    expect(toStoreError(own)).toBe(own);
  });
});
