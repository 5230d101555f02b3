// A tiny in-process gateway that speaks just enough of docs/protocol.md to exercise the client: sessions with resume,
// groups with offsets and history, request/reply, events. Tests reach into it to hold replies, inject frames, drop
// or close connections.
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import {
  decodeRequest,
  encodeErrorReply,
  encodeEvent,
  encodeMessageEvent,
  encodeReply,
} from '@rooms-kit/protocol/server';
import type { ErrorCode, Member, Request, Result } from '@rooms-kit/protocol/server';

const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Rejects when `promise` has not settled within `ms` (real timers, even while a test fakes them). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = realSetTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    promise.then(
      (value) => {
        realClearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        realClearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** An async queue: everything pushed is kept in `items`; `next()` takes them in order, waiting when empty. */
export class Queue<T> {
  readonly items: T[] = [];
  #taken = 0;
  #waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    this.items.push(item);
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      this.#taken++;
      waiter(item);
    }
  }

  next(what = 'queue item', ms = 5000): Promise<T> {
    if (this.#taken < this.items.length) return Promise.resolve(this.items[this.#taken++] as T);
    return withTimeout(new Promise<T>((resolve) => this.#waiters.push(resolve)), ms, what);
  }
}

interface Session {
  id: string;
  token: string;
  conn: FakeConnection | null;
  /** Per group, the last offset written to this session's connection. */
  written: Map<string, number>;
}

interface Group {
  id: string;
  offset: number;
  members: Map<string, { session: Session; data?: unknown }>;
  history: { from: string | null; data: unknown; offset: number }[];
}

/** One client connection as the fake server sees it. */
export class FakeConnection {
  readonly path: string;
  readonly query: URLSearchParams;
  /** Every valid request received, in order. */
  readonly requests = new Queue<Request>();
  /** Settles when the socket has closed, with the code the server saw. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** When true, requests are recorded but not answered (the test answers with `send`). */
  hold = false;
  /** When true, message events count as written to this connection but are not sent (lost in flight). */
  lose = false;
  /** When true, requests are executed but their replies are not sent (lost in flight, as when the node dies). */
  muteReplies = false;
  session: Session | null = null;

  constructor(
    readonly socket: WebSocket,
    url: string,
  ) {
    const parsed = new URL(url, 'ws://fake');
    this.path = parsed.pathname;
    this.query = parsed.searchParams;
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** Sends one frame: text as is, anything else JSON-encoded. */
  send(frame: string | object): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Drops the TCP connection without a close frame (a network failure). */
  drop(): void {
    this.socket.terminate();
  }

  /** Closes with a close frame. */
  close(code: number, reason = ''): void {
    this.socket.close(code, reason);
  }
}

/** The fake gateway. */
export class FakeServer {
  /** Every connection accepted, in order. */
  readonly connections = new Queue<FakeConnection>();
  /** Connections whose socket has not closed yet. */
  readonly open = new Set<FakeConnection>();
  readonly sessions = new Map<string, Session>();
  readonly groups = new Map<string, Group>();
  /** When true, every resume is refused with 4001. */
  refuseResume = false;
  /** How many already-written messages a resume replays again (to exercise the client's dedupe). */
  replayOverlap = 0;
  #sequence = 0;

  private constructor(
    readonly wss: WebSocketServer,
    readonly url: string,
  ) {
    wss.on('connection', (socket, request) => this.#accept(socket, request.url ?? '/'));
  }

  static async start(): Promise<FakeServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const { port } = wss.address() as AddressInfo;
    return new FakeServer(wss, `ws://127.0.0.1:${port}`);
  }

  /** Stops listening and terminates whatever is still connected. */
  async stop(): Promise<void> {
    for (const conn of this.open) conn.drop();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  #accept(socket: WebSocket, url: string): void {
    const conn = new FakeConnection(socket, url);
    this.open.add(conn);
    void conn.closed.then(({ code }) => this.#closed(conn, code));
    socket.on('message', (data, isBinary) => this.#message(conn, data, isBinary));
    this.connections.push(conn);

    const sessionId = conn.query.get('session');
    const resumeToken = conn.query.get('resume');
    if (sessionId !== null && resumeToken !== null) {
      const session = this.sessions.get(sessionId);
      if (session === undefined || session.token !== resumeToken || this.refuseResume) {
        conn.close(4001, 'resume failed');
        return;
      }
      session.conn?.drop();
      this.#welcome(conn, session, true);
      for (const [groupId, written] of session.written) {
        const group = this.groups.get(groupId);
        if (group === undefined) continue;
        for (const message of group.history) {
          if (message.offset > written - this.replayOverlap) this.#deliver(session, group, message);
        }
      }
      return;
    }
    const session: Session = { id: `s${++this.#sequence}`, token: '', conn: null, written: new Map() };
    this.sessions.set(session.id, session);
    this.#welcome(conn, session, false);
  }

  #welcome(conn: FakeConnection, session: Session, resumed: boolean): void {
    session.token = `t${++this.#sequence}`;
    session.conn = conn;
    conn.session = session;
    conn.send(encodeEvent({ ev: 'welcome', session: session.id, resumeToken: session.token, node: 'fake', heartbeatMs: 25000, resumed }));
  }

  #closed(conn: FakeConnection, code: number): void {
    this.open.delete(conn);
    const session = conn.session;
    if (session === null || session.conn !== conn) return;
    session.conn = null;
    if (code !== 1000) return; // resumable
    this.sessions.delete(session.id);
    for (const group of this.groups.values()) {
      if (group.members.delete(session.id)) this.#notify(group, session, { ev: 'left', group: group.id, member: this.#member(session), reason: 'disconnect' });
    }
  }

  #message(conn: FakeConnection, data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    const decoded = decodeRequest(data as Buffer);
    if (!decoded.ok) {
      conn.send(encodeErrorReply(decoded.ref, decoded.error));
      return;
    }
    const request = decoded.request;
    conn.requests.push(request);
    if (conn.hold || conn.session === null) return;
    const outcome = this.#execute(conn.session, request);
    if (conn.muteReplies) {
      if (typeof outcome !== 'string') outcome.after?.();
      return;
    }
    if (request.ref === undefined) {
      if (typeof outcome === 'string') conn.send(encodeErrorReply(null, { code: outcome, message: outcome, temporary: false }));
      return;
    }
    if (typeof outcome === 'string') {
      conn.send(encodeErrorReply(request.ref, { code: outcome, message: `fake: ${outcome}`, temporary: false }));
      return;
    }
    conn.send(encodeReply(request.ref, outcome.result));
    outcome.after?.();
  }

  #member(session: Session, data?: unknown): Member {
    return data === undefined ? { id: session.id, node: 'fake' } : { id: session.id, node: 'fake', data };
  }

  #members(group: Group): Member[] {
    return [...group.members.values()].map(({ session, data }) => this.#member(session, data));
  }

  /** Sends an event to every connected member but `except`. */
  #notify(group: Group, except: Session | null, event: Parameters<typeof encodeEvent>[0]): void {
    const frame = encodeEvent(event);
    for (const { session } of group.members.values()) if (session !== except) session.conn?.send(frame);
  }

  #deliver(session: Session, group: Group, message: Group['history'][number]): void {
    if (session.conn === null) return;
    if (!session.conn.lose) session.conn.send(encodeMessageEvent(group.id, message.from, message.data, message.offset));
    session.written.set(group.id, Math.max(session.written.get(group.id) ?? 0, message.offset));
  }

  #execute(session: Session, request: Request): ErrorCode | { result: Result; after?: () => void } {
    switch (request.op) {
      case 'ping':
        return { result: {} };
      case 'create': {
        const id = request.group ?? `g${++this.#sequence}`;
        if (this.groups.has(id)) return 'GROUP_EXISTS';
        const group: Group = { id, offset: 0, members: new Map(), history: [] };
        this.groups.set(id, group);
        if (request.join !== false) {
          group.members.set(session.id, { session, data: request.data });
          session.written.set(id, 0);
        }
        return { result: { group: id, members: this.#members(group) } };
      }
      case 'join': {
        const group = this.groups.get(request.group);
        if (group === undefined) return 'GROUP_NOT_FOUND';
        const already = group.members.has(session.id);
        if (!already) {
          group.members.set(session.id, { session, data: request.data });
          session.written.set(group.id, group.offset);
          this.#notify(group, session, { ev: 'joined', group: group.id, member: this.#member(session, request.data), data: request.data });
        }
        const since = request.since;
        const result = { group: group.id, members: this.#members(group), already, offset: group.offset };
        if (since === undefined) return { result };
        return {
          result: { ...result, recovered: true },
          after: () => {
            for (const message of group.history) if (message.offset > since) this.#deliver(session, group, message);
          },
        };
      }
      case 'leave': {
        const group = this.groups.get(request.group);
        if (group === undefined) return 'GROUP_NOT_FOUND';
        if (!group.members.delete(session.id)) return 'NOT_MEMBER';
        session.written.delete(group.id);
        this.#notify(group, session, { ev: 'left', group: group.id, member: this.#member(session), reason: 'leave', data: request.data });
        return { result: { group: group.id } };
      }
      case 'broadcast': {
        const group = this.groups.get(request.group);
        if (group === undefined) return 'GROUP_NOT_FOUND';
        if (!group.members.has(session.id)) return 'NOT_MEMBER';
        const message = { from: session.id, data: request.data, offset: ++group.offset };
        group.history.push(message);
        let recipients = 0;
        for (const { session: member } of group.members.values()) {
          if (member === session && request.self !== true) continue;
          recipients++;
          this.#deliver(member, group, message);
        }
        return { result: { recipients, offset: message.offset } };
      }
      case 'members': {
        const group = this.groups.get(request.group);
        return group === undefined ? 'GROUP_NOT_FOUND' : { result: { group: group.id, members: this.#members(group) } };
      }
      case 'groups': {
        const mine = [...this.groups.values()].filter((group) => group.members.has(session.id)).map((group) => group.id);
        return { result: { groups: mine, latest: mine.at(-1) ?? null } };
      }
      case 'group': {
        const group = this.groups.get(request.group);
        if (group === undefined) return 'GROUP_NOT_FOUND';
        const state = group.members.size > 0 ? 'active' : 'created';
        return { result: { group: group.id, state, size: group.members.size, nodes: ['fake'], meta: {}, static: false } };
      }
    }
  }
}
