import type { SessionRecord } from '../port/session-store.js';
import { assertEqual, assertMatch, assertTrue } from './assertions.js';
import type { ContractCases } from './fixtures.js';
import { gid, three } from './fixtures.js';

/** A suspended record held by `node`, resumable for 30 s. */
function record(id: string, node: string, options: Partial<SessionRecord> = {}): SessionRecord {
  return { id, node, tokenHash: 'hash-1', groups: { g1: 4, g2: 0 }, expiresAt: Date.now() + 30_000, windowMs: 30_000, user: 'u1', ...options };
}

/** The session store: `save`, `take`, `read`, `drop`. */
export function sessionStoreCases({ api: { describe, it }, setup }: ContractCases): void {
  describe('sessions', () => {
    it('takes a suspended session with the right hash only, moving it to the taker', async () => {
      const [a, b] = three(await setup());
      const s = gid('sess');
      await a.sessions.save(record(s, a.nodeId));
      assertEqual(await b.sessions.take(s, 'wrong'), null, 'take with a wrong hash');
      assertEqual(await b.sessions.take(gid('unknown'), 'hash-1'), null, 'take of an unknown session');
      const taken = await b.sessions.take(s, 'hash-1');
      const moved = { id: s, node: b.nodeId, tokenHash: 'hash-1', groups: { g1: 4, g2: 0 }, expiresAt: null, windowMs: 30_000, user: 'u1' };
      assertEqual(taken, { record: moved, previousNode: a.nodeId }, 'taken');
    });

    it('reports the previous holder: another node, or the taker itself when it held the session', async () => {
      const [a, b] = three(await setup());
      const s = gid('sess');
      await a.sessions.save(record(s, a.nodeId));
      assertEqual((await b.sessions.take(s, 'hash-1', { newTokenHash: 'hash-2' }))?.previousNode, a.nodeId, 'first holder');
      assertEqual((await b.sessions.take(s, 'hash-2'))?.previousNode, b.nodeId, 'holder of a second take');
    });

    it('takes over a session still connected on a live node (the client came back first)', async () => {
      const [a, b] = three(await setup());
      const s = gid('sess');
      await a.sessions.save(record(s, a.nodeId, { expiresAt: null }));
      assertEqual(await b.sessions.take(s, 'wrong'), null, 'take with a wrong hash');
      assertMatch(await b.sessions.take(s, 'hash-1'), { record: { node: b.nodeId, expiresAt: null }, previousNode: a.nodeId }, 'taken');
    });

    it('with an expected user, refuses a session of another user and changes nothing', async () => {
      const [a, b] = three(await setup());
      const s = gid('sess');
      await a.sessions.save(record(s, a.nodeId));
      assertEqual(await b.sessions.take(s, 'hash-1', { expectedUser: 'mallory' }), null, 'take for another user');
      assertEqual(await b.sessions.take(s, 'hash-1', { expectedUser: null }), null, 'take for no user');
      assertMatch(await b.sessions.take(s, 'hash-1', { expectedUser: 'u1' }), { record: { node: b.nodeId, user: 'u1' } }, 'take for its user');
    });

    it('refuses an expired session and a dropped one', async () => {
      const [a, b] = three(await setup());
      const expired = gid('sess');
      await a.sessions.save(record(expired, a.nodeId, { expiresAt: Date.now() - 1 }));
      assertEqual(await b.sessions.take(expired, 'hash-1'), null, 'take of an expired session');
      const dropped = gid('sess');
      await a.sessions.save(record(dropped, a.nodeId));
      await a.sessions.drop(dropped);
      assertEqual(await b.sessions.take(dropped, 'hash-1'), null, 'take of a dropped session');
    });

    it('reads a record as stored, also after a take; null when unknown, dropped or expired', async () => {
      const [a, b] = three(await setup());
      const s = gid('sess');
      const saved = record(s, a.nodeId);
      await a.sessions.save(saved);
      assertEqual(await b.sessions.read(s), saved, 'the saved record');
      await b.sessions.take(s, 'hash-1', { newTokenHash: 'hash-2' });
      assertEqual(await a.sessions.read(s), { ...saved, node: b.nodeId, tokenHash: 'hash-2', expiresAt: null }, 'the record after a take');
      const live = gid('sess');
      await a.sessions.save(record(live, a.nodeId, { expiresAt: null, user: undefined }));
      assertEqual(await b.sessions.read(live), record(live, a.nodeId, { expiresAt: null, user: undefined }), 'a live record without user');
      assertEqual(await b.sessions.read(gid('unknown')), null, 'an unknown session');
      await b.sessions.drop(s);
      assertEqual(await a.sessions.read(s), null, 'a dropped session');
      const expired = gid('sess');
      await a.sessions.save(record(expired, a.nodeId, { expiresAt: Date.now() - 1 }));
      assertEqual(await b.sessions.read(expired), null, 'an expired session');
    });

    it('reports whether a save stored the record: false, changing nothing, once another node holds it', async () => {
      const [a, b] = three(await setup());
      const s = gid('sess');
      assertEqual(await a.sessions.save(record(s, a.nodeId, { expiresAt: null })), true, 'save of a new record');
      assertEqual(await a.sessions.save(record(s, a.nodeId, { expiresAt: null, groups: { g1: 5 } })), true, 'save by the holder');
      assertTrue((await b.sessions.take(s, 'hash-1', { newTokenHash: 'hash-2' })) !== null, 'b takes it');
      const taken = { ...record(s, b.nodeId, { expiresAt: null, groups: { g1: 5 } }), tokenHash: 'hash-2' };
      // The old holder, taken for dead while it still ran, stores its record again when it runs on: refused.
      assertEqual(await a.sessions.save(record(s, a.nodeId, { expiresAt: null })), false, 'save by the old holder');
      assertEqual(await a.sessions.save(record(s, a.nodeId, { expiresAt: Date.now() - 1 })), false, 'expired save by the old holder');
      assertEqual(await a.sessions.read(s), taken, 'the record after the refused saves');
      assertEqual(await b.sessions.save({ ...taken, groups: { g1: 6 } }), true, 'save by the new holder');
      assertEqual((await b.sessions.read(s))?.groups, { g1: 6 }, 'groups after the new holder saved');
    });

    it('drops a record; with ifNode, not one another node holds now', async () => {
      const [a, b] = three(await setup());
      const s = gid('sess');
      await a.sessions.save(record(s, a.nodeId));
      assertEqual(await a.sessions.drop(s, b.nodeId), false, 'drop for a node that does not hold it');
      assertTrue((await b.sessions.take(s, 'hash-1')) !== null, 'b takes it');
      // The window ending on the old node must not undo the resume on b.
      assertEqual(await a.sessions.drop(s, a.nodeId), false, 'drop by the old holder');
      assertEqual(await b.sessions.drop(s, b.nodeId), true, 'drop by the holder');
      assertEqual(await b.sessions.take(s, 'hash-1'), null, 'take after the drop');
      // A missing record (dropped, expired) is gone either way.
      assertEqual(await a.sessions.drop(s, a.nodeId), true, 'drop of a missing record with ifNode');
      assertEqual(await b.sessions.drop(s), true, 'drop of a missing record');
    });

    it('gives a session to exactly one of concurrent takers', async () => {
      const [a, b, c] = three(await setup());
      const s = gid('sess');
      await a.sessions.save(record(s, a.nodeId));
      // Each take rotates the token hash in the same step, so the second one's token is stale.
      const results = await Promise.all([b.sessions.take(s, 'hash-1', { newTokenHash: 'hash-b' }), c.sessions.take(s, 'hash-1', { newTokenHash: 'hash-c' })]);
      const won = results.filter((r) => r !== null);
      assertEqual(won.length, 1, 'takes that won');
      const winner = won[0]?.record;
      assertEqual(winner?.tokenHash, winner?.node === b.nodeId ? 'hash-b' : 'hash-c', "the winner's token hash");
    });
  });
}
