import WebSocket from 'ws';

/** Any message the server sends (a reply, an event or the welcome), as parsed JSON. */
export type ServerMessage = Record<string, unknown> & { ev?: string; ref?: number | null; ok?: boolean };

/**
 * ProtocolClient: a raw PROTOCOL.md client for tests: it keeps every message the server sent (frames may be one
 * object or an array), correlates replies by `ref`, and waits for messages with timeouts. Unlike the SDK it hides
 * nothing (no dedupe, no reconnect), so tests can assert on exactly what went over the wire.
 */
export class ProtocolClient {
  readonly messages: ServerMessage[] = [];
  readonly welcome: ServerMessage;
  private nextRef = 1;
  private readonly waiters = new Set<{ match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }>();
  private closeInfo: { code: number; reason: string } | null = null;
  private readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket, welcome: ServerMessage) {
    this.welcome = welcome;
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      });
    });
    socket.on('message', (raw) => this.receive(String(raw)));
  }

  /** Connects and resolves once the welcome arrived. Rejects on an HTTP refusal or a close before the welcome. */
  static connect(url: string, timeoutMs = 5000): Promise<ProtocolClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no welcome from ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      const early: string[] = [];
      const onMessage = (raw: WebSocket.RawData): void => {
        early.push(String(raw));
        const first = parseFrame(early[0] ?? '')[0];
        if (first?.ev !== 'welcome') return;
        clearTimeout(timer);
        socket.off('message', onMessage);
        const client = new ProtocolClient(socket, first);
        for (const [i, frame] of early.entries()) for (const [j, m] of parseFrame(frame).entries()) if (i > 0 || j > 0) client.push(m);
        resolve(client);
      };
      socket.on('message', onMessage);
      socket.once('close', (code, reason) => {
        clearTimeout(timer);
        reject(Object.assign(new Error(`closed before welcome: ${code} ${String(reason)}`), { code }));
      });
      socket.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(Object.assign(new Error(`HTTP ${res.statusCode} at upgrade`), { status: res.statusCode }));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** The session id from the welcome. */
  get session(): string {
    return String(this.welcome.session);
  }

  /** Sends a request with a fresh `ref` and resolves with its reply (ok or not). */
  async request(op: string, fields: Record<string, unknown> = {}, timeoutMs = 5000): Promise<ServerMessage> {
    const ref = this.nextRef++;
    const reply = this.waitFor((m) => m.ref === ref && m.ev === undefined, timeoutMs, `reply to ${op} #${ref}`);
    this.socket.send(JSON.stringify({ op, ref, ...fields }));
    return reply;
  }

  /** Sends a request and resolves with its result; rejects with the error code when it failed. */
  async ok(op: string, fields: Record<string, unknown> = {}): Promise<ServerMessage> {
    const reply = await this.request(op, fields);
    if (reply.ok !== true) throw Object.assign(new Error(`${op} failed: ${JSON.stringify(reply.error)}`), { reply });
    return reply;
  }

  /** Sends raw text (for malformed-input tests). */
  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** Resolves with the first message (already received or to come) that matches. */
  waitFor(match: (m: ServerMessage) => boolean, timeoutMs = 5000, what = 'a message'): Promise<ServerMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: ServerMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.messages.slice(-5))}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Resolves once `count` messages match (returns them in arrival order). */
  async waitForCount(match: (m: ServerMessage) => boolean, count: number, timeoutMs = 5000, what = 'messages'): Promise<ServerMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.filter(match);
      if (found.length >= count) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} ${what}; have ${found.length}`);
      await this.waitFor((m) => match(m) && !found.includes(m), left, what).catch(() => undefined);
    }
  }

  /** The `message` events of a group, in arrival order. */
  messagesOf(group: string): ServerMessage[] {
    return this.messages.filter((m) => m.ev === 'message' && m.group === group);
  }

  /** Resolves with the close code and reason once the socket closed. */
  whenClosed(): Promise<{ code: number; reason: string }> {
    return this.closed;
  }

  /** Closes with `code` (1000 ends the session) and waits for the close. */
  async close(code = 1000): Promise<void> {
    if (!this.closeInfo && this.socket.readyState === WebSocket.OPEN) this.socket.close(code);
    else if (!this.closeInfo) this.socket.terminate();
    await this.closed;
  }

  /** Drops the connection without a close frame (the session stays resumable). */
  async drop(): Promise<void> {
    this.socket.terminate();
    await this.closed;
  }

  private receive(raw: string): void {
    for (const message of parseFrame(raw)) this.push(message);
  }

  private push(message: ServerMessage): void {
    this.messages.push(message);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(message)) {
        this.waiters.delete(waiter);
        waiter.resolve(message);
      }
    }
  }
}

function parseFrame(raw: string): ServerMessage[] {
  const value: unknown = JSON.parse(raw);
  return (Array.isArray(value) ? value : [value]) as ServerMessage[];
}
