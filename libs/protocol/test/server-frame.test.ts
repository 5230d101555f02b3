import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeServerFrame } from '../src/client.js';

const welcome = { ev: 'welcome', session: 's', resumeToken: 't', node: 'n', heartbeatMs: 25000, resumed: true };
const member = { id: 's2', node: 'n2' };

function protocolError(raw: string): ProtocolError {
  try {
    decodeServerFrame(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toBeInstanceOf(Error);
    return error as ProtocolError;
  }
  throw new Error(`expected ${raw} to be rejected`);
}

describe('decodeServerFrame', () => {
  it('accepts a single object', () => {
    expect(decodeServerFrame(JSON.stringify(welcome))).toEqual([welcome]);
  });

  it('accepts an array of messages, in order', () => {
    const frame = [
      { ref: 1, ok: true, group: 'g', members: [] },
      { ev: 'message', group: 'g', from: 's2', data: null, offset: 1 },
      { ref: null, ok: false, error: { code: 'BAD_REQUEST', message: 'x', temporary: false } },
    ];
    expect(decodeServerFrame(JSON.stringify(frame))).toEqual(frame);
    expect(decodeServerFrame('[]')).toEqual([]);
  });

  it('accepts bytes and ArrayBuffers', () => {
    const bytes = new TextEncoder().encode(JSON.stringify(welcome));
    expect(decodeServerFrame(bytes)).toEqual([welcome]);
    expect(decodeServerFrame(bytes.buffer.slice(0, bytes.byteLength))).toEqual([welcome]);
  });

  it('skips events this version does not know and keeps unknown fields', () => {
    const frame = [{ ev: 'future', x: 1 }, { ev: 'joined', group: 'g', member, extra: 1 }];
    expect(decodeServerFrame(JSON.stringify(frame))).toEqual([{ ev: 'joined', group: 'g', member, extra: 1 }]);
  });

  it('maps an unknown error code to INTERNAL, keeping the code in the message', () => {
    const [reply] = decodeServerFrame('{"ref":1,"ok":false,"error":{"code":"NEW_THING","message":"m","temporary":true}}');
    expect(reply).toEqual({ ref: 1, ok: false, error: { code: 'INTERNAL', message: '[NEW_THING] m', temporary: true } });
  });

  it('throws a ProtocolError with the parse error as cause for invalid JSON', () => {
    const error = protocolError('{"ev":');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it.each(['1', 'null', '"x"', '[1]', '[{"ev":"welcome"}]', '{}', '{"ref":1}', '{"ev":5}'])('throws for %s', (raw) => {
    protocolError(raw);
  });

  const broken: [string, Record<string, unknown>][] = [
    ['welcome without session', { ...welcome, session: undefined }],
    ['welcome without resumeToken', { ...welcome, resumeToken: undefined }],
    ['welcome with string heartbeatMs', { ...welcome, heartbeatMs: '1' }],
    ['welcome without resumed', { ...welcome, resumed: undefined }],
    ['joined without member', { ev: 'joined', group: 'g' }],
    ['joined with member lacking node', { ev: 'joined', group: 'g', member: { id: 's' } }],
    ['joined with numeric member.user', { ev: 'joined', group: 'g', member: { ...member, user: 1 } }],
    ['rejoined without group', { ev: 'rejoined', member }],
    ['left with unknown reason', { ev: 'left', group: 'g', member, reason: 'bored' }],
    ['message without data', { ev: 'message', group: 'g', from: null, offset: 1 }],
    ['message with fractional offset', { ev: 'message', group: 'g', from: null, data: 1, offset: 1.5 }],
    ['message with numeric from', { ev: 'message', group: 'g', from: 3, data: 1, offset: 1 }],
    ['discarded with unknown reason', { ev: 'discarded', group: 'g', reason: 'x' }],
    ['error without error', { ev: 'error' }],
    ['reply ok without ref', { ok: true }],
    ['reply error with string ref', { ref: '1', ok: false, error: { code: 'INTERNAL', message: 'm', temporary: false } }],
    ['reply error without temporary', { ref: 1, ok: false, error: { code: 'INTERNAL', message: 'm' } }],
  ];

  it.each(broken)('throws for %s', (_what, message) => {
    protocolError(JSON.stringify(message));
  });

  it('drops only the malformed message of a batch when given onMalformed, and reports it', () => {
    const good = { ev: 'message', group: 'g', from: null, data: 1, offset: 1 };
    const errors: ProtocolError[] = [];
    const frame = JSON.stringify([good, { ev: 'message', group: 7 }, { ref: 1, ok: true }]);
    expect(decodeServerFrame(frame, (error) => errors.push(error))).toEqual([good, { ref: 1, ok: true }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(() => decodeServerFrame(frame)).toThrow(ProtocolError);
  });
});
