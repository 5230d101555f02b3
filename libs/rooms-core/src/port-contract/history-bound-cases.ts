import { utf8ByteLength } from '../groups/request-checks.js';
import type { GroupMessage } from '../types.js';
import { assertEqual, assertTrue } from './assertions.js';
import type { ContractCases } from './fixtures.js';
import { gid, member, spec, three } from './fixtures.js';

/** The bytes a message counts against the history's byte budget: its `data` as JSON, in UTF-8. */
function bytesOf(data: unknown): number {
  return utf8ByteLength(JSON.stringify(data) ?? 'null');
}

/** Offsets `from..to`. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * The history's byte bound (`GroupLog.history`): the retained messages' `data`, as JSON in UTF-8 bytes, sum to at
 * most the budget, exactly, and they are the latest ones; `complete` says when what was asked was dropped.
 */
export function historyBoundCases({ api: { describe, it }, setup }: ContractCases): void {
  describe('history byte bound', () => {
    it('keeps messages up to the byte budget exactly, and drops the oldest for one byte more', async () => {
      const [a, b] = three(await setup(3, { historySize: 1000, historyMaxBytes: 1000 }));
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      // "éé…" of 49 × 'é' is 2 + 98 = 100 bytes of UTF-8 as JSON (51 UTF-16 units): bytes, not characters, count.
      const hundred = 'é'.repeat(49);
      assertEqual(bytesOf(hundred), 100, 'bytes of one message');
      for (let i = 1; i <= 10; i++) await a.groups.publish(g, 's1', hundred, false);
      const full = await b.groups.history(g, 0);
      assertEqual(full.messages.map((m) => m.offset), range(1, 10), 'offsets at exactly the budget');
      assertEqual(full.complete, true, 'complete at exactly the budget');
      assertEqual(full.messages[0]?.data, hundred, 'data kept');

      await a.groups.publish(g, 's1', 7, false); // one byte more: 1001
      const over = await b.groups.history(g, 0);
      assertEqual(over.messages.map((m) => m.offset), range(2, 11), 'offsets one byte past the budget');
      assertEqual(over.complete, false, 'complete after the oldest was dropped');
      assertEqual(await b.groups.history(g, 1), { messages: over.messages, complete: true }, 'history after the dropped one');
    });

    it('with many large messages keeps at most the budget: the longest run of the latest that fits', async () => {
      const budget = 20_000;
      const [a] = three(await setup(3, { historySize: 1000, historyMaxBytes: budget }));
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      const sent: unknown[] = [];
      for (let i = 1; i <= 120; i++) {
        // Sizes from 1 to about 3,000 bytes, in a fixed order: objects, strings, multi-byte text.
        const data = i % 3 === 0 ? { i, text: '€'.repeat((i * 37) % 900) } : 'x'.repeat((i * 131) % 2900);
        sent.push(data);
        await a.groups.publish(g, 's1', data, false);
      }
      const { messages, complete } = await a.groups.history(g, 0);
      const held = messages.reduce((sum: number, m: GroupMessage) => sum + bytesOf(m.data), 0);
      assertTrue(held <= budget, `bytes held ${held} within ${budget}`);
      const first = messages[0]?.offset ?? 121;
      assertEqual(messages.map((m) => m.offset), range(first, 120), 'the latest messages, contiguous');
      assertTrue(first > 1 && held + bytesOf(sent[first - 2]) > budget, 'the message before the first kept would not fit');
      assertEqual(complete, false, 'complete');
      assertEqual(messages.map((m) => m.data), sent.slice(first - 1), 'data kept');
    });

    it('keeps the byte bound exact also after the count bound trimmed the history', async () => {
      const [a] = three(await setup(3, { historySize: 10, historyMaxBytes: 1000 }));
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      for (let i = 1; i <= 250; i++) await a.groups.publish(g, 's1', i % 10, false);
      const large = 'x'.repeat(298); // 300 bytes as JSON: three fit in the budget, four do not
      for (let i = 0; i < 5; i++) await a.groups.publish(g, 's1', large, false);
      const { messages, complete } = await a.groups.history(g, 0);
      assertEqual(messages.map((m) => m.offset), range(253, 255), 'offsets kept');
      assertEqual(complete, false, 'complete');
    });

    it('keeps no message larger than the whole budget, and keeps the ones after it', async () => {
      const [a] = three(await setup(3, { historySize: 1000, historyMaxBytes: 500 }));
      const g = gid();
      await a.groups.createGroup(spec(g), member('s1', a.nodeId));
      await a.groups.publish(g, 's1', 'small', false);
      const big = await a.groups.publish(g, 's1', 'x'.repeat(600), false);
      assertEqual(await a.groups.history(g, 0), { messages: [], complete: false }, 'history after the large message');
      assertEqual(await a.groups.history(g, big.offset), { messages: [], complete: true }, 'history after its offset');
      const next = await a.groups.publish(g, 's1', { after: true }, false);
      assertEqual(
        await a.groups.history(g, big.offset),
        { messages: [{ group: g, from: 's1', data: { after: true }, offset: next.offset }], complete: true },
        'history after the large message, once another came',
      );
    });
  });
}
