import { RoomsError } from '@rooms-kit/contract';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryBackend, NodeManager } from '../../src/index.js';
import type { GroupLog } from '../../src/index.js';
import { RecordingDelivery } from '../support/recording-delivery.js';

/** A group log whose next `leave` is refused UNAVAILABLE (the store failed it) without touching the group. */
function refusingNextLeave(inner: GroupLog): GroupLog {
  let refuse = true;
  const groups = Object.create(inner) as GroupLog;
  groups.leave = async (...args: Parameters<GroupLog['leave']>) => {
    if (!refuse) return inner.leave(...args);
    refuse = false;
    throw new RoomsError('UNAVAILABLE');
  };
  return groups;
}

/**
 * A leave saves the session's record without the group before it asks the store (so a resume meanwhile does not put
 * the group back). When the store refuses the leave, the session is still a member: its record gets the group back,
 * so a resume elsewhere rejoins it. The leave that succeeds writes the record once.
 */
describe('a leave the store refuses', () => {
  let node: NodeManager | null = null;
  afterEach(async () => {
    await node?.close();
    node = null;
  });

  it('leaves the session a member with the group in its record; a later leave takes it out of both', async () => {
    const backend = new InMemoryBackend('A');
    Object.defineProperty(backend, 'groups', { value: refusingNextLeave(backend.groups) });
    node = new NodeManager({ backend, delivery: new RecordingDelivery() });
    await node.start();
    await node.registerSession('s1', { tokenHash: 'token-1' });
    await node.create('s1', { group: 'g' });
    const recordGroups = async () => Object.keys((await backend.sessions.read('s1'))?.groups ?? {});
    expect(await recordGroups()).toEqual(['g']);

    await expect(node.leave('s1', 'g')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(node.groupsOf('s1').groups).toEqual(['g']);
    expect(await recordGroups()).toEqual(['g']);

    await node.leave('s1', 'g');
    expect(node.groupsOf('s1').groups).toEqual([]);
    expect(await recordGroups()).toEqual([]);
  });
});
