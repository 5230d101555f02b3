/**
 * The Socket.IO 4.8 peer: `join`/`leave` (room, ack) put the socket in a room, `bcast` (room, data) is
 * `socket.to(room).emit('msg', data)`: the idiomatic room broadcast, excluding the sender. WebSocket transport only.
 * With REDIS_URL set it uses @socket.io/redis-adapter (one publish per broadcast; each node fans out to its own
 * sockets). Run with PORT (and HOST) set.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { announceReady, listenAddress } from './server-env.js';

const { host, port } = listenAddress();
const httpServer = createServer();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });

const redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  const pub = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
}

io.on('connection', (socket) => {
  socket.on('join', async (room: unknown, ack: unknown) => {
    if (typeof room === 'string') await socket.join(room);
    if (typeof ack === 'function') ack(true);
  });
  socket.on('leave', async (room: unknown, ack: unknown) => {
    if (typeof room === 'string') await socket.leave(room);
    if (typeof ack === 'function') ack(true);
  });
  socket.on('bcast', (room: unknown, data: unknown) => {
    if (typeof room === 'string') socket.to(room).emit('msg', data);
  });
});

httpServer.listen(port, host, () => announceReady(port));
