/**
 * The ceiling: a plain `ws` server with a minimal group protocol (see driver/ws-baseline-connection.ts) that does
 * what the performance design (BENCHMARKS.md) asks of the gateway and nothing else. A broadcast is serialised and framed
 * once; the same frame buffer is queued on every other member and each connection's queue is written in one corked
 * batch per event-loop turn. Run with PORT (and HOST) set.
 */
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type WebSocket from 'ws';
import { announceReady, listenAddress } from './server-env.js';

interface Connection {
  ws: WebSocket;
  socket: Socket;
  groups: Set<string>;
  queue: Buffer[];
}

/** An unmasked, final text frame around `payload` (RFC 6455 §5.2), built once per broadcast. */
function textFrame(payload: Buffer): Buffer {
  const len = payload.length;
  const headerLength = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + len);
  frame[0] = 0x81;
  if (len < 126) frame[1] = len;
  else if (len < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

const groups = new Map<string, Set<Connection>>();
const dirty = new Set<Connection>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const conn of dirty) {
    if (conn.queue.length === 1) conn.socket.write(conn.queue[0]!);
    else {
      conn.socket.cork();
      for (const frame of conn.queue) conn.socket.write(frame);
      conn.socket.uncork();
    }
    conn.queue = [];
  }
  dirty.clear();
}

function enqueue(conn: Connection, frame: Buffer): void {
  conn.queue.push(frame);
  dirty.add(conn);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

function reply(conn: Connection, text: string): void {
  enqueue(conn, textFrame(Buffer.from(text)));
}

function onMessage(conn: Connection, data: Buffer): void {
  let request: { t?: unknown; g?: unknown; r?: unknown; d?: unknown };
  try {
    request = JSON.parse(data.toString('utf8')) as typeof request;
  } catch {
    return reply(conn, '{"t":"err","e":"BAD_REQUEST"}');
  }
  const group = typeof request.g === 'string' ? request.g : undefined;
  const ref = typeof request.r === 'number' ? request.r : null;
  if (group === undefined) return reply(conn, JSON.stringify({ t: 'err', r: ref, e: 'BAD_REQUEST' }));
  switch (request.t) {
    case 'join': {
      let members = groups.get(group);
      if (!members) groups.set(group, (members = new Set()));
      members.add(conn);
      conn.groups.add(group);
      return reply(conn, JSON.stringify({ t: 'ok', r: ref }));
    }
    case 'leave': {
      const members = groups.get(group);
      members?.delete(conn);
      if (members?.size === 0) groups.delete(group);
      conn.groups.delete(group);
      return reply(conn, JSON.stringify({ t: 'ok', r: ref }));
    }
    case 'b': {
      const members = groups.get(group);
      if (!members?.has(conn)) return reply(conn, JSON.stringify({ t: 'err', r: ref, e: 'NOT_MEMBER' }));
      const frame = textFrame(Buffer.from(JSON.stringify({ t: 'm', g: group, d: request.d })));
      for (const member of members) if (member !== conn) enqueue(member, frame);
      return;
    }
    default:
      return reply(conn, JSON.stringify({ t: 'err', r: ref, e: 'UNKNOWN_OP' }));
  }
}

function onClose(conn: Connection): void {
  dirty.delete(conn);
  for (const group of conn.groups) {
    const members = groups.get(group);
    members?.delete(conn);
    if (members?.size === 0) groups.delete(group);
  }
}

const { host, port } = listenAddress();
const server = createServer();
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
// The upgrade gives us the raw socket: frames are written to it directly, in corked batches.
server.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => {
    const conn: Connection = { ws, socket: socket as Socket, groups: new Set(), queue: [] };
    ws.on('message', (data: Buffer) => onMessage(conn, data));
    ws.on('close', () => onClose(conn));
    ws.on('error', () => {});
  });
});
server.listen(port, host, () => announceReady(port));
