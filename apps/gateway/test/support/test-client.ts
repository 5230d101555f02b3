import WebSocket from 'ws';
import type { ClientOptions } from 'ws';

/** Any message the server sent (one element of a frame). */
export type Msg = Record<string, unknown>;

/** How a connection ended. */
export interface Closed {
  code: number;
  reason: string;
}

const DEFAULT_TIMEOUT_MS = 3000;

interface Waiter {
  predicate: (msg: Msg) => boolean;
  resolve: (msg: Msg) => void;
}

/**
 * A real `ws` client for tests: collects every message (a frame holding an array counts as several), remembers the
 * raw frames (object or array), sends requests with fresh refs and awaits replies and events with timeouts.
 */
export class TestClient {
  /** Every message received, in order (array frames flattened). */
  readonly messages: Msg[] = [];
  /** Every frame received, parsed (an object or an array). */
  readonly frames: unknown[] = [];
  /** Resolves when the connection has closed. */
  readonly closed: Promise<Closed>;
  private readonly waiters = new Set<Waiter>();
  // High, so refs a test picks by hand never collide with these.
  private nextRef = 1_000_000;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
    ws.on('message', (data) => {
      const parsed: unknown = JSON.parse(data.toString());
      this.frames.push(parsed);
      for (const msg of Array.isArray(parsed) ? (parsed as Msg[]) : [parsed as Msg]) {
        this.messages.push(msg);
        for (const waiter of [...this.waiters]) {
          if (waiter.predicate(msg)) {
            this.waiters.delete(waiter);
            waiter.resolve(msg);
          }
        }
      }
    });
  }

  /** Opens a connection; resolves once the WebSocket is open (without waiting for `welcome`). */
  static open(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
  }

  /** Opens a connection and waits for its `welcome`. */
  static async connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const client = await TestClient.open(url, options);
    await client.waitFor((m) => m.ev === 'welcome', 'welcome');
    return client;
  }

  /** The `welcome` message (the first one). */
  get welcome(): { session: string; resumeToken: string; node: string; heartbeatMs: number; resumed: boolean; ev: string } {
    const first = this.messages[0];
    if (first?.ev !== 'welcome') throw new Error('no welcome yet');
    return first as never;
  }

  /** This client's session id. */
  get session(): string {
    return this.welcome.session;
  }

  /** Sends a message as one JSON frame. */
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends raw text as one frame. */
  sendRaw(text: string): void {
    this.ws.send(text);
  }

  /** Sends `{op, ref, ...fields}` and resolves with the reply (success or error). */
  request(op: string, fields: Record<string, unknown> = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Msg> {
    const ref = this.nextRef++;
    this.send({ op, ref, ...fields });
    return this.waitFor((m) => m.ref === ref && 'ok' in m, `reply to ${op} #${ref}`, timeoutMs);
  }

  /** As {@link request}, and fails unless the reply is a success. */
  async ok(op: string, fields: Record<string, unknown> = {}): Promise<Msg> {
    const reply = await this.request(op, fields);
    if (reply.ok !== true) throw new Error(`${op} failed: ${JSON.stringify(reply.error)}`);
    return reply;
  }

  /** As {@link request}, and resolves with the error of an error reply (fails on success). */
  async fails(op: string, fields: Record<string, unknown> = {}): Promise<{ code: string; message: string; temporary: boolean }> {
    const reply = await this.request(op, fields);
    if (reply.ok !== false) throw new Error(`${op} succeeded: ${JSON.stringify(reply)}`);
    return reply.error as never;
  }

  /** Resolves with the first message (already received or coming) that matches, or rejects after the timeout. */
  waitFor(predicate: (msg: Msg) => boolean, label = 'message', timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Msg> {
    const known = this.messages.find(predicate);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out waiting for ${label}; got ${JSON.stringify(this.messages.slice(-5))}`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (msg) => {
          clearTimeout(timer);
          resolve(msg);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Waits for an event `ev` matching `fields` (shallow equality on each given field). */
  event(ev: string, fields: Record<string, unknown> = {}, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Msg> {
    return this.waitFor((m) => m.ev === ev && matches(m, fields), `${ev} ${JSON.stringify(fields)}`, timeoutMs);
  }

  /** The messages received so far that are events `ev` matching `fields`. */
  events(ev: string, fields: Record<string, unknown> = {}): Msg[] {
    return this.messages.filter((m) => m.ev === ev && matches(m, fields));
  }

  /** Closes with `code` and waits until closed. */
  async close(code = 1000): Promise<Closed> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    return this.closed;
  }

  /** Drops the connection without a close frame. */
  terminate(): Promise<Closed> {
    this.ws.terminate();
    return this.closed;
  }

  /** Waits for the server to close the connection, failing after the timeout. */
  closedWithin(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Closed> {
    return Promise.race([
      this.closed,
      new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('connection not closed in time')), timeoutMs).unref()),
    ]);
  }
}

function matches(msg: Msg, fields: Record<string, unknown>): boolean {
  for (const [key, value] of Object.entries(fields)) {
    const actual = msg[key];
    if (typeof value === 'object' && value !== null) {
      if (JSON.stringify(actual) !== JSON.stringify(value)) return false;
    } else if (actual !== value) return false;
  }
  return true;
}

/** The HTTP status an upgrade to `url` is refused with (fails if it is accepted). */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('upgrade accepted'));
    });
    ws.once('error', () => undefined);
  });
}
