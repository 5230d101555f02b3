import { describe, expect, it, vi } from 'vitest';
import { registerAll, useFakeTimerNodes } from '../support/nodes.js';

describe('closing a node while it adopts an orphaned group (fake timers)', () => {
  const nodes = useFakeTimerNodes();

  it('two nodes closed at once: the survivor’s adoption of the dead node’s group starts no actor and no timer', async () => {
    const a = await nodes.start({ id: 'A' });
    const b = await nodes.start({ id: 'B' });
    await registerAll(a.node, 'a1');
    await a.node.create('a1', { group: 'g' });
    // A's close makes the store hand its emptied group to B, whose close starts before that adoption finishes.
    await Promise.all([a.node.close(), b.node.close()]);
    expect(b.node.stats().groups).toEqual({ created: 0, active: 0, 'empty-grace': 0 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
