import { afterEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN,
  adminCall,
  cleanup,
  clientSocket,
  eventually,
  holdSessionTakes,
  overflowSlowConsumer,
  startTestGateway,
  within,
} from './support/harness.js';
import type { ServerMessage } from '@rooms-kit/testing';

afterEach(cleanup);

const offsetsOf = (messages: ServerMessage[], group: string): number[] =>
  messages.filter((m) => m.ev === 'message' && m.group === group).map((m) => m.offset as number);

describe('Resume', () => {
  it('a dropped session resumes: memberships kept, no left, rejoined, missed messages replayed in order', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g1' });
    await a.ok('create', { group: 'g2' });
    await b.ok('join', { group: 'g1' });
    await b.ok('join', { group: 'g2' });
    await a.ok('broadcast', { group: 'g1', data: 'seen' });
    await b.event('message', { group: 'g1', offset: 1 });
    await b.terminate();
    for (let i = 0; i < 3; i++) await a.ok('broadcast', { group: 'g1', data: `g1-${i}` });
    for (let i = 0; i < 2; i++) await a.ok('broadcast', { group: 'g2', data: `g2-${i}` });

    const back = await gw.connect({ session: b.session, resume: b.welcome.resumeToken });
    expect(back.frames[0]).toEqual({
      ev: 'welcome',
      session: b.session,
      resumeToken: expect.any(String),
      node: gw.gateway.node.nodeId,
      heartbeatMs: 25000,
      resumed: true,
    });
    expect(back.welcome.resumeToken).not.toBe(b.welcome.resumeToken);
    await back.event('message', { group: 'g1', offset: 4 });
    await back.event('message', { group: 'g2', offset: 2 });
    expect(offsetsOf(back.messages, 'g1')).toEqual([2, 3, 4]);
    expect(offsetsOf(back.messages, 'g2')).toEqual([1, 2]);
    expect(back.events('message', { group: 'g1', offset: 2 })[0]).toEqual({ ev: 'message', group: 'g1', from: a.session, data: 'g1-0', offset: 2 });
    await a.event('rejoined', { group: 'g1', member: { id: b.session, node: gw.gateway.node.nodeId } });
    await a.event('rejoined', { group: 'g2' });
    expect(a.events('left')).toEqual([]);
    expect((await back.ok('groups')).groups).toEqual(['g1', 'g2']);
    // Live again: new messages arrive as usual.
    await a.ok('broadcast', { group: 'g1', data: 'live' });
    await back.event('message', { group: 'g1', offset: 5 });
  });

  it('the fresh token replaces the old one', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    await a.terminate();
    const back = await gw.connect({ session: a.session, resume: a.welcome.resumeToken });
    await back.terminate();
    const stale = await gw.open({ session: a.session, resume: a.welcome.resumeToken });
    expect((await stale.closedWithin()).code).toBe(4001);
    const fresh = await gw.connect({ session: a.session, resume: back.welcome.resumeToken });
    expect(fresh.welcome.resumed).toBe(true);
  });

  it('when the window ends without a resume, members get left with reason disconnect', async () => {
    const gw = await startTestGateway({ ROOMS_RESUME_WINDOW_MS: '150' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.terminate();
    expect(await a.event('left', { group: 'g' })).toMatchObject({ member: { id: b.session }, reason: 'disconnect' });
    const late = await gw.open({ session: b.session, resume: b.welcome.resumeToken });
    expect((await late.closedWithin()).code).toBe(4001);
  });

  it('a resume while the old connection still looks alive takes it over', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    const back = await gw.connect({ session: b.session, resume: b.welcome.resumeToken });
    expect(back.welcome.resumed).toBe(true);
    expect((await b.closedWithin()).code).toBe(1006);
    await a.ok('broadcast', { group: 'g', data: 'x' });
    await back.event('message', { offset: 1 });
    expect(a.events('left')).toEqual([]);
  });

  it('a takeover needs the right token', async () => {
    const gw = await startTestGateway();
    const b = await gw.connect();
    const thief = await gw.open({ session: b.session, resume: 'guess' });
    expect((await thief.closedWithin()).code).toBe(4001);
    expect((await b.ok('ping')).ok).toBe(true);
  });

  it('a refused takeover leaves the connection holding the session as it was: its events and a kick still reach it', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    // Any member knows b's session id (it is b's member id).
    const thief = await gw.open({ session: b.session, resume: 'guess' });
    expect((await thief.closedWithin()).code).toBe(4001);
    await a.ok('broadcast', { group: 'g', data: 'after' });
    expect(await b.event('message', { group: 'g', offset: 1 })).toMatchObject({ data: 'after' });
    expect((await adminCall(gw, 'DELETE', `/admin/sessions/${b.session}`)).status).toBe(200);
    expect((await b.closedWithin()).code).toBe(4003);
  });

  it('a refused resume costs the live connection nothing: every event in order while the token is checked, and a later resume replays exactly what it missed', async () => {
    const gw = await startTestGateway();
    const [owner, victim] = await Promise.all([gw.connect(), gw.connect()]);
    await owner.ok('create', { group: 'g' });
    await victim.ok('join', { group: 'g' });
    await owner.ok('broadcast', { group: 'g', data: 1 });
    await victim.event('message', { offset: 1 });
    // The kernel's token check is a store round trip: events keep flowing meanwhile.
    const takes = holdSessionTakes(gw.gateway);
    const thief = await gw.open({ session: victim.session, resume: 'guess' });
    await within(takes.reached, "the thief's token check");
    await owner.ok('broadcast', { group: 'g', data: 2 });
    await owner.ok('broadcast', { group: 'g', data: 3 });
    const late = await gw.connect();
    await late.ok('join', { group: 'g' });
    takes.release();
    expect((await thief.closedWithin()).code).toBe(4001);
    await owner.ok('broadcast', { group: 'g', data: 4 });
    await victim.event('message', { offset: 4 });
    const seen = victim.messages.filter((m) => (m.ev === 'message' || m.ev === 'joined') && m.group === 'g');
    expect(seen.map((m) => (m.ev === 'joined' ? `joined ${(m.member as { id: string }).id}` : m.offset))).toEqual([1, 2, 3, `joined ${late.session}`, 4]);

    // Its offsets were kept right too: after a drop, the resume replays exactly what it missed.
    await victim.terminate();
    await eventually(() => gw.gateway.connectionCount === 2, 'the drop to be seen');
    await owner.ok('broadcast', { group: 'g', data: 5 });
    await owner.ok('broadcast', { group: 'g', data: 6 });
    const back = await gw.connect({ session: victim.session, resume: victim.welcome.resumeToken });
    await back.event('message', { offset: 6 });
    await owner.ok('broadcast', { group: 'g', data: 7 });
    await back.event('message', { offset: 7 });
    expect(offsetsOf(back.messages, 'g')).toEqual([5, 6, 7]);
  });

  it('a connection that drops while a refused resume of its session waits is suspended with what really reached it', async () => {
    const gw = await startTestGateway();
    const [owner, victim] = await Promise.all([gw.connect(), gw.connect()]);
    await owner.ok('create', { group: 'g' });
    await victim.ok('join', { group: 'g' });
    const takes = holdSessionTakes(gw.gateway);
    const thief = await gw.open({ session: victim.session, resume: 'guess' });
    await within(takes.reached, "the thief's token check");
    await owner.ok('broadcast', { group: 'g', data: 1 });
    await owner.ok('broadcast', { group: 'g', data: 2 });
    await victim.event('message', { offset: 2 });
    await victim.terminate();
    await eventually(() => gw.gateway.connectionCount === 2, 'the drop to be seen');
    await owner.ok('broadcast', { group: 'g', data: 3 });
    takes.release();
    expect((await thief.closedWithin()).code).toBe(4001);
    await owner.ok('broadcast', { group: 'g', data: 4 });
    const back = await gw.connect({ session: victim.session, resume: victim.welcome.resumeToken });
    await back.event('message', { offset: 4 });
    expect(offsetsOf(victim.messages, 'g')).toEqual([1, 2]);
    expect(offsetsOf(back.messages, 'g')).toEqual([3, 4]);
  });

  it('messages published while the replay is prepared come after it, without gaps or repeats', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '0' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.terminate();
    for (let i = 0; i < 20; i++) a.send({ op: 'broadcast', group: 'g', data: i });
    const resuming = gw.connect({ session: b.session, resume: b.welcome.resumeToken });
    for (let i = 20; i < 200; i++) a.send({ op: 'broadcast', group: 'g', data: i });
    const back = await resuming;
    await back.event('message', { offset: 200 });
    expect(offsetsOf(back.messages, 'g')).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('frames queued but never written when a connection dies are replayed (offsets are corrected)', async () => {
    const gw = await startTestGateway({ ROOMS_MAX_OUTBOUND_BYTES: '65536', ROOMS_RATE_LIMIT: '0' });
    const [sender, slow] = await Promise.all([gw.connect(), gw.connect()]);
    await sender.ok('create', { group: 'g' });
    await slow.ok('join', { group: 'g' });
    const last = await overflowSlowConsumer(gw, sender, slow, 'g', 8 * 1024);
    clientSocket(slow).resume();
    expect((await slow.closedWithin()).code).toBe(4008);
    const before = offsetsOf(slow.messages, 'g');
    const back = await gw.connect({ session: slow.session, resume: slow.welcome.resumeToken });
    await back.event('message', { offset: last });
    const replayed = offsetsOf(back.messages, 'g');
    // No gap: the replay starts at or before the first offset the old connection never got.
    expect(replayed[0]).toBeLessThanOrEqual((before.at(-1) ?? 0) + 1);
    expect(replayed).toEqual(Array.from({ length: replayed.length }, (_, i) => (replayed[0] ?? 0) + i));
  });
});

describe('Resume: join with since', () => {
  it('replays every message after since, in order, after the reply, with recovered:true', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    for (let i = 1; i <= 5; i++) await a.ok('broadcast', { group: 'g', data: i });
    const reply = await b.request('join', { group: 'g', since: 2 });
    expect(reply).toMatchObject({ ok: true, already: false, offset: 5, recovered: true });
    await b.event('message', { offset: 5 });
    const replyIndex = b.messages.indexOf(reply);
    const messages = b.messages.filter((m) => m.ev === 'message');
    expect(messages.map((m) => m.offset)).toEqual([3, 4, 5]);
    expect(messages.map((m) => m.data)).toEqual([3, 4, 5]);
    expect(b.messages.indexOf(messages[0] as ServerMessage)).toBeGreaterThan(replyIndex);
  });

  it('works for a member too (already:true), to recover messages lost in flight', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    for (let i = 1; i <= 3; i++) await a.ok('broadcast', { group: 'g', data: i });
    await b.event('message', { offset: 3 });
    const reply = await b.ok('join', { group: 'g', since: 1 });
    expect(reply).toMatchObject({ already: true, recovered: true, offset: 3 });
    await eventually(() => offsetsOf(b.messages, 'g').length === 5, 'replay of 2 and 3');
    expect(offsetsOf(b.messages, 'g')).toEqual([1, 2, 3, 2, 3]);
  });

  it('recovered:false when the history no longer holds the messages', async () => {
    const gw = await startTestGateway({ ROOMS_RATE_LIMIT: '0' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    // The embedded store keeps the last 1000 messages of a group.
    for (let i = 0; i < 1100; i++) a.send({ op: 'broadcast', group: 'g', data: i });
    await a.ok('ping');
    const reply = await b.ok('join', { group: 'g', since: 0 });
    expect(reply).toMatchObject({ recovered: false, offset: 1100 });
    await b.event('message', { offset: 1100 });
    const offsets = offsetsOf(b.messages, 'g');
    expect(offsets[0]).toBeGreaterThan(1);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => (offsets[0] ?? 0) + i));
  });

  it('since at the latest offset replays nothing and is recovered', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await a.ok('broadcast', { group: 'g', data: 1 });
    expect(await b.ok('join', { group: 'g', since: 1 })).toMatchObject({ recovered: true, offset: 1 });
    await b.ok('ping');
    expect(b.events('message')).toEqual([]);
  });
});
