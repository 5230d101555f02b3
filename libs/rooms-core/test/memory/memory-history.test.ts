import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InMemoryBackend, InMemoryStore } from '../../src/index.js';
import type { BackendHandler } from '../../src/index.js';
import { MemoryHistory } from '../../src/memory/memory-history.js';

/** UTF-8 bytes of `data` as JSON. */
function bytesOf(data: unknown): number {
  return new TextEncoder().encode(JSON.stringify(data)).length;
}

describe('MemoryHistory', () => {
  it('the memory store keeps each message as JSON text: history returns a copy, not the object that was published', async () => {
    const backend = new InMemoryBackend('A', new InMemoryStore());
    const quiet: BackendHandler = {
      onEvent: () => undefined,
      onNodeDown: () => undefined,
      onOrphans: () => undefined,
      onReconnected: () => undefined,
      onAvailability: () => undefined,
      onNodeMessage: () => undefined,
    };
    await backend.start(quiet);
    try {
      const spec = { id: 'g', allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
      await backend.groups.createGroup(spec, null);
      const data = { list: [1, 2] };
      await backend.groups.publish('g', 's1', data, false);
      data.list.push(3);
      await backend.groups.publish('g', null, undefined, false);
      // A caller that measured the payload passes its JSON: that text is what is kept.
      await backend.groups.publish('g', null, { kept: 'as given' }, false, '{"kept":"as given"}');
      expect((await backend.groups.history('g', 0)).messages).toEqual([
        { group: 'g', from: 's1', data: { list: [1, 2] }, offset: 1 },
        { group: 'g', from: null, data: null, offset: 2 },
        { group: 'g', from: null, data: { kept: 'as given' }, offset: 3 },
      ]);
    } finally {
      await backend.close();
    }
  });

  it('counts the UTF-8 bytes of the texts it holds', () => {
    const history = new MemoryHistory(10, 1000, 0);
    history.append(1, 's1', JSON.stringify('€'));
    history.append(2, 's1', '{"a":1}');
    expect(history.bytes).toBe(5 + 7);
    expect(history.count).toBe(2);
  });

  it('starts after the offsets a re-created group inherited', () => {
    const history = new MemoryHistory(10, 1000, 7);
    expect(history.since('g', 7)).toEqual({ messages: [], complete: true });
    expect(history.since('g', 3)).toEqual({ messages: [], complete: false });
    history.append(8, 's', '"x"');
    expect(history.since('g', 7).messages.map((m) => m.offset)).toEqual([8]);
    expect(history.since('g', 0).complete).toBe(false);
  });

  it('reads from the whole part of a fractional offset, and nothing for NaN', () => {
    const history = new MemoryHistory(10, 1000, 0);
    for (let offset = 1; offset <= 3; offset++) history.append(offset, 's', String(offset));
    expect(history.since('g', 1.5).messages.map((m) => m.offset)).toEqual([2, 3]);
    expect(history.since('g', Number.NaN)).toEqual({ messages: [], complete: false });
  });

  it('property: keeps the longest run of the latest messages within both bounds, and says what it dropped', () => {
    const message = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.jsonValue({ maxDepth: 2 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 400 }), fc.array(message, { maxLength: 60 }), (maxCount, maxBytes, sent) => {
        const history = new MemoryHistory(maxCount, maxBytes, 0);
        sent.forEach((data, i) => history.append(i + 1, 's', JSON.stringify(data)));
        // The model: walk back from the latest while both bounds hold.
        let first = sent.length + 1;
        let bytes = 0;
        while (first > 1 && sent.length + 1 - first < maxCount && bytes + bytesOf(sent[first - 2]) <= maxBytes) {
          bytes += bytesOf(sent[first - 2]);
          first--;
        }
        const { messages, complete } = history.since('g', 0);
        expect(messages.map((m) => m.offset)).toEqual(Array.from({ length: sent.length + 1 - first }, (_, i) => first + i));
        expect(messages.map((m) => m.data)).toEqual(sent.slice(first - 1).map((d) => JSON.parse(JSON.stringify(d)) as unknown));
        expect(history.bytes).toBe(bytes);
        expect(history.count).toBe(messages.length);
        expect(complete).toBe(first === 1);
        for (let since = 0; since <= sent.length; since++) expect(history.since('g', since).complete).toBe(since + 1 >= first);
      }),
      { numRuns: 500 },
    );
  });
});
