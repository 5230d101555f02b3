import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminCall, cleanup, eventually, groupState, startTestGateway } from './support/harness.js';

afterEach(cleanup);

describe('Group lifecycle', () => {
  it('active → empty-grace → discarded; the id can then be created anew', async () => {
    const gw = await startTestGateway({ ROOMS_EMPTY_GRACE_MS: '150' });
    const [a, watcher] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await a.ok('broadcast', { group: 'g', data: 1 });
    expect(await groupState(watcher, 'g')).toBe('active');
    await a.ok('leave', { group: 'g' });
    expect(await groupState(watcher, 'g')).toBe('empty-grace');
    await eventually(async () => (await groupState(watcher, 'g')) === undefined, 'discard after grace');
    expect((await watcher.fails('group', { group: 'g' })).code).toBe('GROUP_NOT_FOUND');
    const again = await a.ok('create', { group: 'g' });
    expect(again.group).toBe('g');
    expect((await a.ok('broadcast', { group: 'g', data: 2 })).offset).toBe(1);
  });

  it('a join during empty-grace returns the group to active and it is not discarded', async () => {
    const gw = await startTestGateway({ ROOMS_EMPTY_GRACE_MS: '200' });
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g' });
    await a.ok('leave', { group: 'g' });
    expect(await groupState(b, 'g')).toBe('empty-grace');
    await b.ok('join', { group: 'g' });
    expect(await groupState(b, 'g')).toBe('active');
    // A later group with the same grace is discarded: past that point, g must still be there.
    await a.ok('create', { group: 'probe' });
    await a.ok('leave', { group: 'probe' });
    await eventually(async () => (await groupState(b, 'probe')) === undefined, 'probe discarded');
    expect(await groupState(b, 'g')).toBe('active');
  });

  it('allowEmpty without a member waits in created for its ttl, then is discarded', async () => {
    const gw = await startTestGateway();
    const a = await gw.connect();
    await a.ok('create', { group: 'lonely', allowEmpty: true, join: false, ttl: 0.15 });
    expect(await groupState(a, 'lonely')).toBe('created');
    await eventually(async () => (await groupState(a, 'lonely')) === undefined, 'ttl expiry');
  });

  it('a created group becomes active on its first join', async () => {
    const gw = await startTestGateway();
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'later', allowEmpty: true, join: false, ttl: 60 });
    await b.ok('join', { group: 'later' });
    expect(await groupState(a, 'later')).toBe('active');
  });

  it('static groups exist from the start, stay when empty, and cannot be discarded', async () => {
    const gw = await startTestGateway({ ROOMS_STATIC_GROUPS: 'lobby,news', ROOMS_EMPTY_GRACE_MS: '50', ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const a = await gw.connect();
    const info = await a.ok('group', { group: 'lobby' });
    expect(info).toMatchObject({ state: 'active', size: 0, static: true });
    await a.ok('join', { group: 'news' });
    await a.ok('leave', { group: 'news' });
    // Another group with the same grace goes away; the static one stays.
    await a.ok('create', { group: 'probe' });
    await a.ok('leave', { group: 'probe' });
    await eventually(async () => (await groupState(a, 'probe')) === undefined, 'probe discarded');
    expect(['active', 'empty-grace']).toContain(await groupState(a, 'news'));
    const refused = await adminCall(gw, 'DELETE', '/admin/groups/lobby');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect(await groupState(a, 'lobby')).toBe('active');
  });
});
