import { NodeManager, RoomsError } from '@rooms-kit/core';

// The delivery port gets each event once with the group's local sessions: here we just print them.
const node = new NodeManager({
  delivery: {
    deliver(event, to, except) {
      for (const session of to) if (session !== except) console.log(`-> ${session}: ${JSON.stringify(event)}`);
    },
  },
  emptyGraceMs: 1000,
});
await node.start();

// A before-hook can refuse with a coded error; nothing changes then.
node.hooks.before('join', ({ group, session }) => {
  if (group === 'vip' && session !== 'alice') throw new RoomsError('FORBIDDEN', 'VIPs only');
});

await node.registerSession('alice', { user: 'alice' });
await node.registerSession('bob');
await node.create('alice', { group: 'lobby', meta: { topic: 'general' } });
await node.join('bob', 'lobby', { data: { nick: 'bob' } });

const sent = await node.broadcast('alice', 'lobby', { text: 'hi bob' });
console.log(`recipients=${sent.recipients} offset=${sent.offset}`);
console.log('members:', (await node.members('lobby')).map((m) => m.id).join(','));

await node.create('alice', { group: 'vip' });
const refused = await node.join('bob', 'vip').catch((error: RoomsError) => error.code);
console.log(`bob joins vip: ${refused}`);

await node.close();
