import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectRoomsError, registerAll, TestNodes } from '../support/nodes.js';

describe('NodeManager broadcast and announce', () => {
  let nodes: TestNodes;
  beforeEach(() => {
    nodes = new TestNodes();
  });
  afterEach(() => nodes.closeAll());

  async function groupOfThree() {
    const started = await nodes.start({ id: 'A' });
    await registerAll(started.node, 's1', 's2', 's3');
    await started.node.create('s1', { group: 'g' });
    await started.node.join('s2', 'g');
    await started.node.join('s3', 'g');
    started.delivery.clear();
    return started;
  }

  it('delivers to the other members, not the sender, and counts them as recipients', async () => {
    const { node, delivery } = await groupOfThree();
    expect(await node.broadcast('s1', 'g', { text: 'hi' })).toEqual({ recipients: 2, offset: 1 });
    const message = { ev: 'message', group: 'g', from: 's1', data: { text: 'hi' }, offset: 1 };
    expect(delivery.eventsFor('s2')).toEqual([message]);
    expect(delivery.eventsFor('s3')).toEqual([message]);
    expect(delivery.eventsFor('s1')).toEqual([]);
    // One call per event per node: the fan-out happens in the port.
    expect(delivery.log).toHaveLength(1);
  });

  it('with self:true also delivers to the sender and counts it', async () => {
    const { node, delivery } = await groupOfThree();
    expect(await node.broadcast('s1', 'g', 'x', { self: true })).toEqual({ recipients: 3, offset: 1 });
    expect(delivery.eventsOf('s1', 'message')).toEqual([{ ev: 'message', group: 'g', from: 's1', data: 'x', offset: 1 }]);
  });

  it('numbers messages 1, 2, 3 and announces share the sequence', async () => {
    const { node, delivery } = await groupOfThree();
    expect((await node.broadcast('s1', 'g', 'a')).offset).toBe(1);
    expect((await node.broadcast('s2', 'g', 'b')).offset).toBe(2);
    expect((await node.announce('g', 'c')).offset).toBe(3);
    expect((await node.broadcast('s3', 'g', 'd')).offset).toBe(4);
    expect(delivery.eventsOf('s1', 'message').map((m) => [m.offset, m.data])).toEqual([
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
  });

  it('rejects NOT_MEMBER for a sender outside the group and delivers nothing', async () => {
    const { node, delivery } = await groupOfThree();
    await registerAll(node, 'outsider');
    await expectRoomsError(node.broadcast('outsider', 'g', 'x'), 'NOT_MEMBER');
    expect(delivery.log).toEqual([]);
    // The refused message took no offset.
    expect((await node.broadcast('s1', 'g', 'y')).offset).toBe(1);
  });

  it('rejects GROUP_NOT_FOUND for a missing group', async () => {
    const { node } = await groupOfThree();
    await expectRoomsError(node.broadcast('s1', 'nope', 'x'), 'GROUP_NOT_FOUND');
  });

  it('announce comes from null, reaches every member and counts the group size', async () => {
    const { node, delivery } = await groupOfThree();
    expect(await node.announce('g', { notice: 1 })).toEqual({ recipients: 3, offset: 1 });
    for (const session of ['s1', 's2', 's3']) {
      expect(delivery.eventsFor(session)).toEqual([{ ev: 'message', group: 'g', from: null, data: { notice: 1 }, offset: 1 }]);
    }
  });

  it('announce rejects GROUP_NOT_FOUND for a missing group', async () => {
    const { node } = await nodes.start();
    await expectRoomsError(node.announce('nope', 1), 'GROUP_NOT_FOUND');
  });

  it('rejects PAYLOAD_TOO_LARGE above maxPayloadBytes, for broadcast and announce', async () => {
    const { node, delivery } = await nodes.start({ maxPayloadBytes: 10 });
    await registerAll(node, 's1', 's2');
    await node.create('s1', { group: 'g' });
    await node.join('s2', 'g');
    delivery.clear();
    await expectRoomsError(node.broadcast('s1', 'g', 'x'.repeat(20)), 'PAYLOAD_TOO_LARGE');
    await expectRoomsError(node.announce('g', 'x'.repeat(20)), 'PAYLOAD_TOO_LARGE');
    expect(delivery.log).toEqual([]);
    expect((await node.broadcast('s1', 'g', 'ok')).offset).toBe(1);
  });
});
