import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../src/gateway.js';
import { ADMIN_TOKEN, adminCall, cleanup, eventually, startTestGateway } from './support/harness.js';

afterEach(async () => {
  vi.useRealTimers();
  await cleanup();
});

/** White-box: the groups the session `session` tracks (for the offsets it suspends with; null: none). */
function trackedGroups(gateway: Gateway, session: string): string[] {
  const registry = (gateway as unknown as { registry: { get(id: string): { outbox: { memberships: Map<string, unknown> | null } } | undefined } }).registry;
  return [...(registry.get(session)?.outbox.memberships?.keys() ?? [])];
}

/** White-box: the groups the fan-out keeps an offset cursor for. */
function cursorGroups(gateway: Gateway): string[] {
  return [...(gateway as unknown as { delivery: { cursors: Map<string, unknown> } }).delivery.cursors.keys()];
}

describe('Events', () => {
  it('joined: other members get the member and its join payload; the joiner does not', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g', data: { seat: 3 } });
    expect(await a.event('joined', { group: 'g' })).toEqual({
      ev: 'joined',
      group: 'g',
      member: { id: b.session, node: gw.gateway.node.nodeId, data: { seat: 3 } },
      data: { seat: 3 },
    });
    await b.ok('ping');
    expect(b.events('joined')).toEqual([]);
  });

  it('left with reason leave, carrying the leave payload', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.ok('leave', { group: 'g', data: 'bye' });
    expect(await a.event('left', { group: 'g' })).toEqual({
      ev: 'left',
      group: 'g',
      member: { id: b.session, node: gw.gateway.node.nodeId },
      reason: 'leave',
      data: 'bye',
    });
  });

  it('left with reason disconnect when a member closes with 1000', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.close(1000);
    expect(await a.event('left', { group: 'g' })).toMatchObject({ member: { id: b.session }, reason: 'disconnect' });
  });

  it('left with reason kicked when the admin API kicks a member', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    expect((await adminCall(gw, 'DELETE', `/admin/sessions/${b.session}`)).status).toBe(200);
    expect(await a.event('left', { group: 'g' })).toMatchObject({ member: { id: b.session }, reason: 'kicked' });
  });

  it('message: group, from, data and offset; announce has from null', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await a.ok('broadcast', { group: 'g', data: [1, 'two'] });
    expect(await b.event('message', { offset: 1 })).toEqual({ ev: 'message', group: 'g', from: a.session, data: [1, 'two'], offset: 1 });
    await adminCall(gw, 'POST', '/admin/groups/g/announce', { body: '{"notice":true}' });
    for (const client of [a, b]) {
      expect(await client.event('message', { offset: 2 })).toEqual({ ev: 'message', group: 'g', from: null, data: { notice: true }, offset: 2 });
    }
  });

  it('discarded with reason admin reaches every member', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    expect((await adminCall(gw, 'DELETE', '/admin/groups/g')).status).toBe(200);
    for (const client of [a, b]) expect(await client.event('discarded')).toEqual({ ev: 'discarded', group: 'g', reason: 'admin' });
    expect((await a.ok('groups')).groups).toEqual([]);
  });

  it('discarded: the connection forgets the group (and the fan-out its offset cursor)', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await a.ok('create', { group: 'h' });
    await b.ok('join', { group: 'g' });
    await b.ok('join', { group: 'h' });
    expect(trackedGroups(gw.gateway, b.session).sort()).toEqual(['g', 'h']);
    expect(cursorGroups(gw.gateway).sort()).toEqual(['g', 'h']);
    await adminCall(gw, 'DELETE', '/admin/groups/g');
    await b.event('discarded', { group: 'g' });
    await a.event('discarded', { group: 'g' });
    expect(trackedGroups(gw.gateway, b.session)).toEqual(['h']);
    expect(trackedGroups(gw.gateway, a.session)).toEqual(['h']);
    expect(cursorGroups(gw.gateway)).toEqual(['h']);
    // Leaving and ending give the cursors back too.
    await b.ok('leave', { group: 'h' });
    expect(trackedGroups(gw.gateway, b.session)).toEqual([]);
    await a.close(1000);
    await eventually(() => cursorGroups(gw.gateway).length === 0, 'the last cursor to be dropped');
  });

  it('leave of a group with interval: its held events are dropped, the leave reply is the last of the group', async () => {
    // Timers are faked so the group's interval can pass at once; I/O is real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '0' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g', interval: 1000 });
    await b.ok('join', { group: 'g' });
    await a.ok('broadcast', { group: 'g', data: 'before-leave' });
    const reply = await b.ok('leave', { group: 'g' });
    await vi.advanceTimersByTimeAsync(1000);
    // Another member still gets the group's events after the interval (the timer did fire).
    await a.ok('broadcast', { group: 'g', data: 'after', self: true });
    await vi.advanceTimersByTimeAsync(1000);
    await a.event('message', { data: 'after' });
    await b.ok('ping');
    expect(b.events('message', { group: 'g' })).toEqual([]);
    expect(b.messages.filter((m) => m.group === 'g' || m === reply).at(-1)).toBe(reply);
  });

  it('rejoined when a member resumes its session', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g', data: 'd' });
    await b.terminate();
    await gw.connect({ session: b.session, resume: b.welcome.resumeToken });
    expect(await a.event('rejoined', { group: 'g' })).toEqual({
      ev: 'rejoined',
      group: 'g',
      member: { id: b.session, node: gw.gateway.node.nodeId, data: 'd' },
    });
  });
});
