import { describe, expect, it } from 'vitest';
import { countLiveGaps, countLost } from '../src/audit.js';
import { ChaosClient } from '../src/chaos-client.js';
import { ConnectionLog } from '../src/connection-log.js';
import { FOREIGN_MESSAGE, MessageLedger } from '../src/message-ledger.js';
import { NodeRouter } from '../src/node-router.js';
import { PhaseTally } from '../src/phase-tally.js';

// The audit over hand-made records: clients that never connect (a RoomsClient connects only on connect()).

function setup(clientCount: number) {
  const tally = new PhaseTally();
  tally.begin('start');
  const ledger = new MessageLedger(clientCount, ['g'], tally);
  const router = new NodeRouter([1]);
  const clients = Array.from({ length: clientCount }, (_, i) => new ChaosClient(i, 'g', 0, 0, { router, ledger, tally }));
  return { tally, ledger, clients };
}

/** Client `sender` broadcasts; the ack gives `offset`; `to` get it delivered. Returns the message number. */
function broadcast(ledger: MessageLedger, sender: number, offset: number, to: number[]): number {
  const payload = ledger.register(sender, 0);
  ledger.acked(payload.n, offset);
  for (const client of to) ledger.delivered(client, payload);
  return payload.n;
}

describe('MessageLedger', () => {
  it('counts sent, acked and delivered in the phase of the send, and tells duplicates, echoes and foreign messages', () => {
    const { tally, ledger } = setup(3);
    const payload = ledger.register(0, 0);
    tally.begin('later');
    ledger.acked(payload.n, 1);
    ledger.delivered(1, payload);
    ledger.delivered(1, payload); // again: a duplicate
    ledger.delivered(0, payload); // back to its sender: an echo
    ledger.delivered(2, { hello: 'world' });
    const [first, later] = tally.phases;
    expect(first).toMatchObject({ sent: 1, acked: 1, delivered: 3, duplicated: 1, echoed: 1 });
    expect(later).toMatchObject({ sent: 0, acked: 0, delivered: 0 });
    expect(later?.errors[FOREIGN_MESSAGE]).toBe(1);
  });
});

describe('MessageLedger, refusals', () => {
  it('counts a broadcast the server refused that reached a member anyway, once, in the phase of its send', () => {
    const { tally, ledger } = setup(3);
    const payload = ledger.register(0, 0);
    ledger.refused(payload.n, 'UNAVAILABLE');
    tally.begin('later');
    ledger.delivered(1, payload, { group: 'g', offset: 7 });
    ledger.delivered(2, payload, { group: 'g', offset: 7 });
    expect(tally.at(0).refusedDelivered).toBe(1);
    expect(tally.at(0).notes['refused yet delivered']?.[0]).toContain('broadcast 0 of client 0, answered UNAVAILABLE, reached client 1 as g offset 7');
    expect(tally.at(1).refusedDelivered).toBe(0);
  });
});

describe('countLost', () => {
  it('counts an acknowledged message a covering member never got, once per message, in its phase', () => {
    const { ledger, clients } = setup(3);
    for (const client of clients) client.memberships.push({ base: 0, end: null });
    broadcast(ledger, 0, 1, [1, 2]);
    broadcast(ledger, 0, 2, [1]); // client 2 misses it
    broadcast(ledger, 1, 3, [0]); // client 2 misses it too
    const lost = countLost(ledger, clients, 1);
    expect(lost.perPhase).toEqual([2]);
    expect(lost.examples[0]).toContain('never reached client 2');
  });

  it('does not expect a message outside every membership of a client (joined later, or its session lost before)', () => {
    const { ledger, clients } = setup(3);
    clients[0]?.memberships.push({ base: 0, end: null });
    clients[1]?.memberships.push({ base: 2, end: null }); // joined after offset 2
    clients[2]?.memberships.push({ base: 0, end: 1 }, { base: 3, end: null }); // session lost having seen 1, back after 3
    broadcast(ledger, 0, 1, [2]);
    broadcast(ledger, 0, 2, []);
    broadcast(ledger, 0, 3, [1]);
    expect(countLost(ledger, clients, 1).perPhase).toEqual([0]);
    broadcast(ledger, 0, 4, [1]); // client 2 is a member again and misses it
    expect(countLost(ledger, clients, 1).perPhase).toEqual([1]);
  });

  it('ignores broadcasts that were never acknowledged', () => {
    const { ledger, clients } = setup(2);
    for (const client of clients) client.memberships.push({ base: 0, end: null });
    ledger.register(0, 0);
    expect(countLost(ledger, clients, 1).perPhase).toEqual([0]);
  });
});

describe('countLiveGaps', () => {
  function connection(client: ChaosClient, ledger: MessageLedger, phase: number): ConnectionLog {
    const log = new ConnectionLog(0, () => phase, (group, offset, data) => ledger.wireMessage(group, offset, data));
    client.connections.push(log);
    log.frame(JSON.stringify({ ref: 1, ok: true, group: 'g', members: [], already: false, offset: 0 }));
    return log;
  }
  const wire = (log: ConnectionLog, offset: number, sender: number, n: number) =>
    log.frame(JSON.stringify({ ev: 'message', group: 'g', from: 's', data: { n, c: sender }, offset }));

  it('does not count a hole made of the client own broadcasts (their replies may come late)', () => {
    const { ledger, clients } = setup(2);
    const log = connection(clients[1] as ChaosClient, ledger, 0);
    const first = broadcast(ledger, 0, 1, []);
    wire(log, 1, 0, first);
    broadcast(ledger, 1, 2, []); // its own: never on its wire
    const third = broadcast(ledger, 0, 3, []);
    wire(log, 3, 0, third);
    expect(log.holes).toHaveLength(1);
    expect(countLiveGaps(ledger, clients, 1).perPhase).toEqual([0]);
  });

  it("counts a hole holding another client's offset, or one nobody knows, with the missing offsets", () => {
    const { tally, ledger, clients } = setup(3);
    tally.begin('fault');
    const log = connection(clients[2] as ChaosClient, ledger, 1);
    wire(log, 1, 0, broadcast(ledger, 0, 1, []));
    broadcast(ledger, 1, 2, []); // client 1's, acknowledged, never reached client 2's connection
    ledger.register(0, 0); // offset 3: never acknowledged nor delivered: nobody knows who sent it
    wire(log, 4, 0, broadcast(ledger, 0, 4, []));
    const gaps = countLiveGaps(ledger, clients, 2);
    expect(gaps.perPhase).toEqual([0, 1]);
    expect(gaps.extraPerPhase).toEqual([0, 2]);
    expect(gaps.examples[0]).toContain('skipped 2..3');
  });
});
