import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_DEPTH } from '@rooms-kit/contract';
import { RoomsError } from '../../src/index.js';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

/** `value` wrapped in `levels` arrays and objects, alternately. */
function nest(levels: number, value: unknown = 1): unknown {
  let nested = value;
  for (let i = 0; i < levels; i++) nested = i % 2 === 0 ? [nested] : { k: nested };
  return nested;
}

/** A string whose JSON takes exactly `bytes` bytes (two quotes and ASCII). */
function jsonOf(bytes: number): string {
  return 'x'.repeat(bytes - 2);
}

/** Depth of arrays and objects, computed here independently of the kernel's check (recursion: small values only). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('NodeManager: member data and meta sizes (maxMemberDataBytes, maxMetaBytes)', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('accepts member data of exactly the limit on create, join and leave, and refuses one byte more, changing nothing', async () => {
    const { node, delivery } = await nodes.start({ id: 'A', maxMemberDataBytes: 4096 });
    await registerAll(node, 's1', 's2');
    const error = await expectRoomsError(node.create('s1', { group: 'g', data: jsonOf(4097) }), 'PAYLOAD_TOO_LARGE');
    expect(error.message).toBe('data of 4097 bytes exceeds 4096');
    expect(await node.listGroups()).toEqual([]);
    await node.create('s1', { group: 'g', data: jsonOf(4096) });
    await expectRoomsError(node.join('s2', 'g', { data: jsonOf(4097) }), 'PAYLOAD_TOO_LARGE');
    expect((await node.members('g')).map((m) => m.id)).toEqual(['s1']);
    // Multi-byte text counts in UTF-8 bytes: '€' is three.
    await expectRoomsError(node.join('s2', 'g', { data: '€'.repeat(1365) }), 'PAYLOAD_TOO_LARGE');
    await node.join('s2', 'g', { data: '€'.repeat(1364) });
    delivery.clear();
    await expectRoomsError(node.leave('s2', 'g', { data: jsonOf(4097) }), 'PAYLOAD_TOO_LARGE');
    expect(node.groupsOf('s2').groups).toEqual(['g']);
    expect(delivery.log).toEqual([]);
    await node.leave('s2', 'g', { data: jsonOf(4096) });
    expect(delivery.eventsOf('s1', 'left')).toMatchObject([{ member: { id: 's2' }, data: jsonOf(4096) }]);
  });

  it('accepts meta of exactly the limit and refuses one byte more', async () => {
    const { node } = await nodes.start({ id: 'A', maxMetaBytes: 4096 });
    await registerAll(node, 's1');
    // {"m":"…"} is 8 bytes around the text.
    const error = await expectRoomsError(node.create('s1', { group: 'g', meta: { m: 'x'.repeat(4089) } }), 'PAYLOAD_TOO_LARGE');
    expect(error.message).toBe('meta of 4097 bytes exceeds 4096');
    expect(await node.listGroups()).toEqual([]);
    await node.create('s1', { group: 'g', meta: { m: 'x'.repeat(4088) } });
    expect((await node.groupInfo('g')).meta).toEqual({ m: 'x'.repeat(4088) });
  });

  it('has no size limit on member data and meta by default', async () => {
    const { node } = await nodes.start({ id: 'A' });
    await registerAll(node, 's1');
    await node.create('s1', { group: 'g', data: jsonOf(100_000), meta: { m: 'x'.repeat(100_000) } });
    expect(await node.listGroups()).toEqual(['g']);
  });
});

describe(`NodeManager: payload depth (MAX_PAYLOAD_DEPTH = ${MAX_PAYLOAD_DEPTH})`, () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  it('refuses a value nested one level too deep with BAD_REQUEST in every operation, and accepts the deepest allowed', async () => {
    const { node, delivery } = await nodes.start({ id: 'A', maxPayloadBytes: 65_536 });
    await registerAll(node, 's1', 's2');
    const deepest = nest(MAX_PAYLOAD_DEPTH);
    const tooDeep = nest(MAX_PAYLOAD_DEPTH + 1);
    const refused = [
      node.create('s1', { group: 'g', data: tooDeep }),
      node.create('s1', { group: 'g', meta: { m: tooDeep } }),
    ];
    for (const attempt of refused) {
      const error = await expectRoomsError(attempt, 'BAD_REQUEST');
      expect(error.message).toMatch(/^(data|meta): nested deeper than 32 levels$/);
    }
    expect(await node.listGroups()).toEqual([]);
    await node.create('s1', { group: 'g', data: deepest, meta: { m: nest(MAX_PAYLOAD_DEPTH - 1) } });
    await expectRoomsError(node.join('s2', 'g', { data: tooDeep }), 'BAD_REQUEST');
    await node.join('s2', 'g', { data: deepest });
    delivery.clear();
    await expectRoomsError(node.broadcast('s1', 'g', tooDeep), 'BAD_REQUEST');
    await expectRoomsError(node.announce('g', tooDeep), 'BAD_REQUEST');
    await expectRoomsError(node.leave('s2', 'g', { data: tooDeep }), 'BAD_REQUEST');
    expect(delivery.log).toEqual([]);
    expect((await node.history('g', 0)).messages).toEqual([]);
    expect((await node.broadcast('s1', 'g', deepest)).offset).toBe(1);
    expect((await node.announce('g', deepest)).offset).toBe(2);
    expect((await node.history('g', 0)).messages.map((m) => m.data)).toEqual([deepest, deepest]);
  });

  it('refuses a value nested 100,000 levels (JSON.stringify would throw) and one that refers to itself', async () => {
    const { node } = await nodes.start({ id: 'A', maxPayloadBytes: 65_536 });
    await registerAll(node, 's1');
    await node.create('s1', { group: 'g' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [nest(100_000), cyclic]) {
      await expectRoomsError(node.broadcast('s1', 'g', value), 'BAD_REQUEST');
      await expectRoomsError(node.announce('g', value), 'BAD_REQUEST');
      await expectRoomsError(node.create('s1', { group: 'h', data: value }), 'BAD_REQUEST');
    }
    // The group still works for everyone.
    expect((await node.broadcast('s1', 'g', 'fine')).offset).toBe(1);
  });

  it('refuses a value JSON cannot write (a BigInt) with BAD_REQUEST, not INTERNAL, with limits or without', async () => {
    for (const [label, options] of [['limited', { maxPayloadBytes: 65_536, maxMemberDataBytes: 4096 }], ['unlimited', {}]] as const) {
      const { node } = await nodes.start(options);
      await registerAll(node, `s-${label}`);
      const g = `g-${label}`;
      await node.create(`s-${label}`, { group: g });
      await expectRoomsError(node.broadcast(`s-${label}`, g, { n: 1n }), 'BAD_REQUEST');
      await expectRoomsError(node.announce(g, 1n), 'BAD_REQUEST');
      await expectRoomsError(node.join(`s-${label}`, 'other', { data: 1n }), 'BAD_REQUEST');
      await expectRoomsError(node.create(`s-${label}`, { group: `h-${label}`, meta: { n: 1n } }), 'BAD_REQUEST');
      expect((await node.broadcast(`s-${label}`, g, 'fine')).offset).toBe(1);
    }
  });

  it('property: join accepts member data exactly when it is within the depth and the size limits', async () => {
    const { node } = await nodes.start({ id: 'A', maxMemberDataBytes: 300 });
    await node.create(null, { group: 'g', join: false, allowEmpty: true, ttlMs: 60_000 });
    let sequence = 0;
    const data = fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.integer({ min: 0, max: 40 })).map(([value, levels]) => nest(levels, value));
    await fc.assert(
      fc.asyncProperty(data, async (value) => {
        const session = `p${++sequence}`;
        await node.registerSession(session);
        const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
        const expected = depthOf(value) > MAX_PAYLOAD_DEPTH ? 'BAD_REQUEST' : bytes > 300 ? 'PAYLOAD_TOO_LARGE' : 'ok';
        const outcome = await node.join(session, 'g', { data: value }).then(
          () => 'ok',
          (error: unknown) => (error instanceof RoomsError ? error.code : `not a RoomsError: ${String(error)}`),
        );
        expect(outcome).toBe(expected);
        expect(node.groupsOf(session).groups).toEqual(expected === 'ok' ? ['g'] : []);
        await node.unregisterSession(session);
      }),
      { numRuns: 300 },
    );
  });
});
