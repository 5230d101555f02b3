import { MAX_PAYLOAD_DEPTH } from '@rooms-kit/contract';
import type { ServerMessage } from '@rooms-kit/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall, cleanup, startTestGateway } from './support/harness.js';

afterEach(cleanup);

/** `levels` nested objects as JSON text (never built as a value: JSON.stringify of it would overflow the stack). */
function nestedText(levels: number): string {
  return '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
}

const DEPTH_MESSAGE = `data: nested deeper than ${MAX_PAYLOAD_DEPTH} levels`;

/** The abuse run (issue 13, items 3 and 5), replayed against a started gateway. */
describe('Frames built to hurt a group or the node', () => {
  it('a join with data nested 10,000 levels is BAD_REQUEST, joins nothing, and the group keeps serving everyone', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [owner, attacker, later] = await Promise.all([gw.connect(), gw.connect(), gw.connect()]);
    await owner.ok('create', { group: 'g' });
    attacker.sendRaw(`{"op":"join","ref":7,"group":"g","data":${nestedText(10_000)}}`);
    expect(await attacker.waitFor((m) => m.ref === 7)).toEqual({ ref: 7, ok: false, error: { code: 'BAD_REQUEST', message: DEPTH_MESSAGE, temporary: false } });
    // Not a member; `members`, later joins, their events and the admin view all still work.
    expect((await owner.ok('members', { group: 'g' })).members).toHaveLength(1);
    await later.ok('join', { group: 'g', data: { name: 'later' } });
    expect(await owner.event('joined', { group: 'g' })).toMatchObject({ data: { name: 'later' } });
    expect((await adminCall(gw, 'GET', '/admin/groups/g')).status).toBe(200);
    // A leave with such data is refused the same way, and the member stays.
    later.sendRaw(`{"op":"leave","ref":8,"group":"g","data":${nestedText(10_000)}}`);
    expect(await later.waitFor((m) => m.ref === 8)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: DEPTH_MESSAGE } });
    expect((await owner.ok('members', { group: 'g' })).members).toHaveLength(2);
  });

  it('broadcast data nested 100,000 levels and meta nested deeper than the bound are BAD_REQUEST, not INTERNAL', async () => {
    // Frames up to 1 MiB, so that the depth bound, not the frame size, refuses the 500 KB frame.
    const gw = await startTestGateway({ ROOMS_MAX_PAYLOAD: String(1024 * 1024) });
    const a = await gw.connect();
    await a.ok('create', { group: 'g' });
    a.sendRaw(`{"op":"broadcast","group":"g","data":${nestedText(100_000)},"ref":9}`);
    expect(await a.waitFor((m) => m.ref === 9)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: DEPTH_MESSAGE } });
    a.sendRaw(`{"op":"create","ref":10,"group":"deep","meta":${nestedText(MAX_PAYLOAD_DEPTH + 1)}}`);
    expect(await a.waitFor((m) => m.ref === 10)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: `meta: nested deeper than ${MAX_PAYLOAD_DEPTH} levels` } });
    expect((await a.fails('group', { group: 'deep' })).code).toBe('GROUP_NOT_FOUND');
    // At the bound it is accepted and delivered as sent.
    a.sendRaw(`{"op":"broadcast","ref":11,"group":"g","self":true,"data":${nestedText(MAX_PAYLOAD_DEPTH)}}`);
    expect(await a.waitFor((m) => m.ref === 11)).toMatchObject({ ok: true });
    expect(await a.event('message', { group: 'g' })).toMatchObject({ offset: 1 });
  });

  it('an admin announce whose body nests deeper than the bound is 400 BAD_REQUEST', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const a = await gw.connect();
    await a.ok('create', { group: 'g' });
    const response = await adminCall(gw, 'POST', '/admin/groups/g/announce', { body: nestedText(10_000) });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'BAD_REQUEST', message: DEPTH_MESSAGE, temporary: false } });
    expect((await adminCall(gw, 'POST', '/admin/groups/g/announce', { body: nestedText(MAX_PAYLOAD_DEPTH) })).status).toBe(200);
  });

  it('a binary frame is BAD_REQUEST with ref null and is not executed; more than 20 close the connection with 4000', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    a.sendRaw(Buffer.from('{"op":"ping","ref":77}'));
    a.send({ op: 'ping', ref: 78 });
    await a.waitFor((m) => m.ref === 78);
    const refusals = a.messages.filter((m) => m.ok === false);
    expect(refusals).toEqual([{ ok: false, ref: null, error: { code: 'BAD_REQUEST', message: expect.stringContaining('binary'), temporary: false } }]);
    expect(a.messages.some((m) => m.ref === 77)).toBe(false);
    for (let i = 0; i < 20; i++) a.sendRaw(Buffer.from('{"op":"ping"}'));
    expect((await a.closedWithin()).code).toBe(4000);
  });
});

describe('Every frame counts against the rate limit', () => {
  it('WebSocket pings take tokens: past the burst they get no pong and a request after them is RATE_LIMITED', async () => {
    // 5/s: a burst of 10 tokens.
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '5' });
    const a = await gw.connect();
    let pongs = 0;
    a.ws.on('pong', () => pongs++);
    for (let i = 0; i < 50; i++) a.ws.ping();
    a.send({ op: 'ping', ref: 1 });
    expect(await a.waitFor((m) => m.ref === 1)).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
    // The pongs of the pings let through were written before the reply (same socket, in order).
    expect(pongs).toBe(10);
  });

  it('a frame refused by the rate limit gets RATE_LIMITED with its ref, read without decoding it (an invalid, deep frame too)', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '0.4' });
    const a = await gw.connect();
    expect((await a.request('ping')).ok).toBe(true);
    // Invalid as a request and nested far past the bound: decoding it would answer BAD_REQUEST.
    a.sendRaw(`{"ref":41,"op":"nope","data":${nestedText(10_000)}}`);
    const reply: ServerMessage = await a.waitFor((m) => m.ref === 41);
    expect(reply).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
  });
});
