import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryBackend, NodeManager } from '../../src/index.js';
import type { GroupLog } from '../../src/index.js';
import { RecordingDelivery } from '../support/recording-delivery.js';

/** A group log whose `leave` lands at once but answers only when `answerLeave` is called. */
function withSlowLeaveAnswer(inner: GroupLog): { groups: GroupLog; answerLeave: () => void; leaveLanded: Promise<void> } {
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  let landed!: () => void;
  const leaveLanded = new Promise<void>((resolve) => (landed = resolve));
  const groups = Object.create(inner) as GroupLog;
  groups.leave = async (...args: Parameters<GroupLog['leave']>) => {
    const v = await inner.leave(...args);
    landed();
    await answered;
    return v;
  };
  return { groups, answerLeave: answer, leaveLanded };
}

/**
 * A join of a session started while its leave of the same group is in flight (an embedding program that overlaps
 * them): the kernel runs a session's changes of one group one after the other, so the leave's last step never undoes
 * the join that follows it. The leave's answer from the store is held until the join was started, so the order is the
 * same on every run.
 */
describe('a session’s changes of one group', () => {
  let node: NodeManager | null = null;
  afterEach(async () => {
    await node?.close();
    node = null;
  });

  it('a join started while the leave is in flight lands after it: the session is a member its node delivers to', async () => {
    const backend = new InMemoryBackend('A');
    const slow = withSlowLeaveAnswer(backend.groups);
    Object.defineProperty(backend, 'groups', { value: slow.groups });
    const delivery = new RecordingDelivery();
    node = new NodeManager({ backend, delivery });
    await node.start();
    await node.registerSession('s4');
    await node.registerSession('s1');
    await node.create('s4', { group: 'g1' });
    await node.join('s1', 'g1');
    const leaving = node.leave('s4', 'g1');
    await slow.leaveLanded;
    const joining = node.join('s4', 'g1');
    // Let the join run as far as it can while the leave waits for its answer.
    for (let i = 0; i < 50; i++) await Promise.resolve();
    slow.answerLeave();
    await leaving;
    expect(await joining).toMatchObject({ already: false });
    expect((await node.members('g1')).map((member) => member.id)).toContain('s4');
    expect(node.groupsOf('s4').groups).toContain('g1');
    delivery.clear();
    await node.broadcast('s1', 'g1', 'hello');
    expect(delivery.eventsOf('s4', 'message').length).toBe(1);
  });
});
