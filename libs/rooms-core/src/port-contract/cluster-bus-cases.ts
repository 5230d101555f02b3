import { RoomsError } from '@rooms-kit/contract';
import { assertCode, assertEqual, assertExcludes, assertTrue, eventually } from './assertions.js';
import type { ContractCases } from './fixtures.js';
import { gid, three } from './fixtures.js';

/** A timeout far above any prompt answer: a send that waits for it was not refused promptly. */
const LONG_WAIT_MS = 10_000;
/** What counts as prompt for a refusal. */
const PROMPT_MS = 2000;

/** The cluster bus: delivery with the reply, order, refusals, the bounded wait, errors of the handler. */
export function clusterBusCases({ api: { describe, it }, setup }: ContractCases): void {
  describe('cluster bus', () => {
    it('delivers a message to a live node once and resolves with its reply (also a later one)', async () => {
      const [a, b, , , hb] = three(await setup());
      hb.respond = (from, body) => ({ from, echo: body });
      assertEqual(await a.bus.send(b.nodeId, { ping: [1, 'two'] }), { from: a.nodeId, echo: { ping: [1, 'two'] } }, 'reply');
      assertEqual(hb.messages(), [{ ping: [1, 'two'] }], "b's messages");
      hb.respond = async (_from, body) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { later: body };
      };
      assertEqual(await a.bus.send(b.nodeId, 'x'), { later: 'x' }, 'a reply given later');
    });

    it('hands the messages of one node to another in the order they were sent', async () => {
      const [a, b, c, , hb] = three(await setup());
      hb.respond = (_from, body) => body;
      const n = 30;
      const fromA = Array.from({ length: n }, (_, i) => a.bus.send(b.nodeId, { i }));
      const fromC = Array.from({ length: n }, (_, i) => c.bus.send(b.nodeId, { i }));
      const replies = await Promise.all([...fromA, ...fromC]);
      const sent = Array.from({ length: n }, (_, i) => ({ i }));
      assertEqual(replies, [...sent, ...sent], 'replies');
      assertEqual(hb.messages(a.nodeId), sent, 'order of the messages from a');
      assertEqual(hb.messages(c.nodeId), sent, 'order of the messages from c');
    });

    it('refuses an unknown node promptly with UNAVAILABLE', async () => {
      const [a] = three(await setup());
      const started = Date.now();
      await assertCode(a.bus.send(gid('no-such-node'), 'hello', { timeoutMs: LONG_WAIT_MS }), 'UNAVAILABLE', 'send to an unknown node');
      assertTrue(Date.now() - started < PROMPT_MS, `refused within ${PROMPT_MS} ms, took ${Date.now() - started} ms`);
    });

    it('refuses a node that closed promptly with UNAVAILABLE, and no longer lists it', async () => {
      const [a, , c, , , hc] = three(await setup());
      await eventually(() => a.bus.liveNodes().includes(c.nodeId), "a lists c as live");
      assertEqual(a.bus.liveNodes()[0], a.nodeId, 'the first live node');
      await c.close();
      const started = Date.now();
      await assertCode(a.bus.send(c.nodeId, 'hello', { timeoutMs: LONG_WAIT_MS }), 'UNAVAILABLE', 'send to a closed node');
      assertTrue(Date.now() - started < PROMPT_MS, `refused within ${PROMPT_MS} ms, took ${Date.now() - started} ms`);
      assertEqual(hc.messages(), [], "c's messages");
      await eventually(() => !a.bus.liveNodes().includes(c.nodeId), 'a forgets c');
      assertExcludes(a.bus.liveNodes(), c.nodeId, 'live nodes');
    });

    it('rejects UNAVAILABLE after the bounded wait when the handler never answers, and goes on working', async () => {
      const [a, b, , , hb] = three(await setup());
      hb.respond = () => new Promise(() => undefined);
      const timeoutMs = 300;
      const started = Date.now();
      await assertCode(a.bus.send(b.nodeId, 'anyone?', { timeoutMs }), 'UNAVAILABLE', 'send to a handler that never answers');
      const waited = Date.now() - started;
      assertTrue(waited >= timeoutMs - 20 && waited < LONG_WAIT_MS, `rejected after about ${timeoutMs} ms, took ${waited} ms`);
      hb.respond = () => 'back';
      assertEqual(await a.bus.send(b.nodeId, 'again'), 'back', 'reply after the timeout');
    });

    it("makes the sender reject with the handler's RoomsError (code and message); other failures arrive as INTERNAL", async () => {
      const [a, b, , , hb] = three(await setup());
      hb.respond = () => {
        throw new RoomsError('FORBIDDEN', 'not for you');
      };
      const thrown = await assertCode(a.bus.send(b.nodeId, 'x'), 'FORBIDDEN', 'a thrown RoomsError');
      assertEqual(thrown.message, 'not for you', 'its message');
      hb.respond = async () => {
        throw new RoomsError('GROUP_FULL', 'later, full');
      };
      const rejected = await assertCode(a.bus.send(b.nodeId, 'x'), 'GROUP_FULL', 'a rejected RoomsError');
      assertEqual(rejected.message, 'later, full', 'its message');
      hb.respond = () => {
        throw new Error('a bug');
      };
      await assertCode(a.bus.send(b.nodeId, 'x'), 'INTERNAL', 'another error');
    });
  });
}
