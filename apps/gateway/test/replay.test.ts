import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, clientSocket, eventually, overflowSlowConsumer, startTestGateway } from './support/harness.js';
import type { TestGateway } from './support/harness.js';
import type { ProtocolClient, ServerMessage } from '@rooms-kit/testing';

afterEach(cleanup);

const offsetsOf = (messages: ServerMessage[], group: string): number[] =>
  messages.filter((m) => m.ev === 'message' && m.group === group).map((m) => m.offset as number);

/** Has `sender` (a member of `group`) publish `count` messages of `bytes` each; resolves once all were executed. */
async function fillHistory(sender: ProtocolClient, group: string, count: number, bytes: number): Promise<void> {
  const data = 'h'.repeat(bytes);
  for (let i = 0; i < count; i++) sender.send({ op: 'broadcast', group, data });
  await sender.ok('ping');
}

/** Connects a client and stops reading from its socket right after the welcome. */
async function nonReading(gw: TestGateway, query: Record<string, string> = {}): Promise<ProtocolClient> {
  const client = await gw.connect(query);
  clientSocket(client).pause();
  return client;
}

// The embedded history keeps 1000 messages: 1000 x 16 KiB = 16 MiB, well beyond what the kernel's socket buffers
// of one loopback connection absorb, so a replay to a client that does not read must stop and wait. The history's
// byte bound (ROOMS_HISTORY_MAX_BYTES, default 1 MiB) is raised so that it holds all of them.
const HISTORY = 1000;
const MESSAGE_BYTES = 16 * 1024;
const LARGE_HISTORY = String(32 << 20);

describe('Replays are written at the client\'s pace (bounded memory)', () => {
  it('join since: a client that does not read gets pages as it drains, not the whole history at once', async () => {
    const gw = await startTestGateway({ ROOMS_HISTORY_MAX_BYTES: LARGE_HISTORY, ROOMS_RATE_LIMIT: '0' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await fillHistory(a, 'g', HISTORY, MESSAGE_BYTES);
    const before = gw.gateway.stats.outboundBytes;
    clientSocket(b).pause();
    // Many replays asked at once (the review's DoS): they run one at a time, each at the client's pace.
    for (let i = 1; i <= 30; i++) b.send({ op: 'join', ref: i, group: 'g', since: 0 });
    const server = gw.serverSocketOf(b);
    await eventually(() => server.writableLength > 0, 'the socket to back up', 10_000);
    // Stalled: what waits for the client stays within the slow-consumer limit (1 MiB by default)...
    expect(gw.gateway.pendingOutboundBytes).toBeLessThanOrEqual(1 << 20);
    // ... far less than one history was written, and the client is not taken for a slow consumer.
    expect(gw.gateway.stats.outboundBytes - before).toBeLessThan(HISTORY * MESSAGE_BYTES);
    expect(gw.gateway.connectionCount).toBe(2);
    expect(gw.gateway.stats.closes.get(4008)).toBeUndefined();
  });

  it('join since: a paged replay is complete and in order, with live messages after it, none twice', async () => {
    // A small limit makes small pages (a quarter of it): many pages for this history.
    const gw = await startTestGateway({ ROOMS_HISTORY_MAX_BYTES: LARGE_HISTORY, ROOMS_RATE_LIMIT: '0', ROOMS_MAX_OUTBOUND_BYTES: '16384' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await fillHistory(a, 'g', 300, 512);
    const joining = b.request('join', { group: 'g', since: 0 });
    for (let i = 0; i < 50; i++) a.send({ op: 'broadcast', group: 'g', data: `live-${i}` });
    const reply = await joining;
    expect(reply).toMatchObject({ ok: true, recovered: true });
    await b.event('message', { offset: 350 });
    expect(offsetsOf(b.messages, 'g')).toEqual(Array.from({ length: 350 }, (_, i) => i + 1));
    expect(b.messages.indexOf(reply)).toBeLessThan(b.messages.findIndex((m) => m.ev === 'message'));
    expect(gw.gateway.connectionCount).toBe(2);
  });

  it('join since: live messages parked behind a stalled replay count against the limit (4008)', async () => {
    const gw = await startTestGateway({ ROOMS_HISTORY_MAX_BYTES: LARGE_HISTORY, ROOMS_RATE_LIMIT: '0', ROOMS_MAX_OUTBOUND_BYTES: '262144' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await fillHistory(a, 'g', HISTORY, MESSAGE_BYTES);
    clientSocket(b).pause();
    b.send({ op: 'join', ref: 1, group: 'g', since: 0 });
    await eventually(() => gw.serverSocketOf(b).writableLength > 0, 'the replay to stall', 10_000);
    // Live messages of g now wait behind the replay: they must not pile up without bound.
    await overflowSlowConsumer(gw, a, b, 'g', MESSAGE_BYTES);
    expect(gw.gateway.stats.closes.get(4008)).toBe(1);
    expect(gw.gateway.pendingOutboundBytes).toBeLessThanOrEqual(262_144);
  });

  it('resume: live messages parked behind a stalled resume replay count against the limit (4008)', async () => {
    const gw = await startTestGateway({ ROOMS_HISTORY_MAX_BYTES: LARGE_HISTORY, ROOMS_RATE_LIMIT: '0', ROOMS_MAX_OUTBOUND_BYTES: '262144' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.terminate();
    await fillHistory(a, 'g', HISTORY, MESSAGE_BYTES);
    const back = await nonReading(gw, { session: b.session, resume: b.welcome.resumeToken });
    expect(back.welcome.resumed).toBe(true);
    await eventually(() => gw.serverSocketOf(back).writableLength > 0, 'the replay to stall', 10_000);
    expect(gw.gateway.pendingOutboundBytes).toBeLessThanOrEqual(262_144);
    const sent = await overflowSlowConsumer(gw, a, back, 'g', MESSAGE_BYTES);
    expect(gw.gateway.stats.closes.get(4008)).toBe(1);
    // Suspended, as any slow consumer: the member saw no `left`.
    await a.ok('ping');
    expect(a.events('left')).toEqual([]);
    // What did reach the client is a gapless run of the replay; the next resume goes on from there, to the end.
    clientSocket(back).resume();
    expect((await back.closedWithin()).code).toBe(4008);
    const got = offsetsOf(back.messages, 'g');
    const last = HISTORY + sent;
    const again = await gw.connect({ session: b.session, resume: back.welcome.resumeToken });
    await again.event('message', { offset: last }, 10_000);
    const replayed = offsetsOf(again.messages, 'g');
    expect(replayed[0]).toBeLessThanOrEqual((got.at(-1) ?? 0) + 1);
    expect(replayed).toEqual(Array.from({ length: last - (replayed[0] ?? 0) + 1 }, (_, i) => (replayed[0] ?? 0) + i));
  });

  it('resume: a replay of many pages is complete and in order, then live messages, none twice', async () => {
    const gw = await startTestGateway({ ROOMS_HISTORY_MAX_BYTES: LARGE_HISTORY, ROOMS_RATE_LIMIT: '0', ROOMS_MAX_OUTBOUND_BYTES: '16384' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await b.ok('join', { group: 'g' });
    await b.terminate();
    await fillHistory(a, 'g', 300, 512);
    const resuming = gw.connect({ session: b.session, resume: b.welcome.resumeToken });
    for (let i = 0; i < 50; i++) a.send({ op: 'broadcast', group: 'g', data: `live-${i}` });
    const back = await resuming;
    await back.event('message', { offset: 350 });
    expect(offsetsOf(back.messages, 'g')).toEqual(Array.from({ length: 350 }, (_, i) => i + 1));
    expect(back.messages[0]?.ev).toBe('welcome');
  });
});
