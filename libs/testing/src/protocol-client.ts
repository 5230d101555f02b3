import WebSocket from 'ws';
import type { ClientOptions, RawData } from 'ws';
import { MessageLog } from './message-log.js';
import type { MessagePredicate, ServerMessage } from './message-log.js';

export type { MessagePredicate, ServerMessage } from './message-log.js';

/** How long a wait of the client lasts unless the call says otherwise. */
export const DEFAULT_WAIT_MS = 5000;

/** How a connection ended: the close code and reason the client saw (1006 when it was dropped without a frame). */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** The `welcome` event, as docs/protocol.md shapes it. */
export interface Welcome {
  ev: 'welcome';
  session: string;
  resumeToken: string;
  node: string;
  heartbeatMs: number;
  resumed: boolean;
}

/** The `error` of an error reply. */
export interface ReplyError {
  code: string;
  message: string;
  temporary: boolean;
}

/** How {@link ProtocolClient.open} and {@link ProtocolClient.connect} open the WebSocket. */
export interface OpenOptions {
  /** How long the opening (and, for `connect`, the welcome) may take; default {@link DEFAULT_WAIT_MS}. */
  timeoutMs?: number;
  /** Options of the `ws` client, such as `autoPong: false` or headers. */
  ws?: ClientOptions;
}

/** The server refused the WebSocket upgrade with an HTTP status. */
export class UpgradeRefusedError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`the upgrade to ${url} was refused with HTTP ${status}`);
    this.name = 'UpgradeRefusedError';
  }
}

/**
 * ProtocolClient: a raw docs/protocol.md client for tests and measuring tools. It hides nothing (no dedupe, no reconnect):
 * it keeps every frame as parsed (`frames`), every message with array frames flattened (`messages`), sends requests
 * with fresh refs and raw text or binary frames, waits for replies and events with timeouts, and exposes the welcome
 * and the close code and reason. Waits resolve with a message already received or still to come; once the
 * connection is closed a wait that nothing received can satisfy fails at once, saying how the connection ended.
 */
export class ProtocolClient {
  /** Every frame received, parsed: an object or an array (a frame that is not JSON goes to `unparsable`). */
  readonly frames: unknown[] = [];
  /** Every message received, in order: the objects of the frames, array frames flattened. */
  readonly messages: ServerMessage[];
  /** The text of every frame that was not JSON (the server never sends one; a test may want to know). */
  readonly unparsable: string[] = [];
  /** Resolves with the close code and reason once the connection closed, however it closed. */
  readonly closed: Promise<CloseInfo>;
  private closeState: CloseInfo | null = null;
  private readonly log: MessageLog;
  // High, so refs a test picks by hand (1, 2, ...) never collide with the client's.
  private nextRef = 1_000_000;

  private constructor(
    /** The `ws` WebSocket itself: for pings, `readyState`, or listening to raw frames. */
    readonly ws: WebSocket,
    /** The URL it was opened with. */
    readonly url: string,
  ) {
    this.log = new MessageLog(() => this.describeConnection());
    this.messages = this.log.messages;
    this.closed = new Promise((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeState = { code, reason: reason.toString() };
        resolve(this.closeState);
        this.log.connectionClosed();
      });
    });
    // A socket error is followed by `close`, which is what tests look at.
    ws.on('error', () => undefined);
    ws.on('message', (data) => this.receive(data));
  }

  /**
   * Opens a connection and resolves once the WebSocket is open, without waiting for the welcome (for requests sent
   * before it, refused resumes, early closes). Rejects with an {@link UpgradeRefusedError} when the server answers
   * the upgrade with an HTTP status, with the socket's error when it fails, and after `timeoutMs`.
   */
  static open(url: string, options: OpenOptions = {}): Promise<ProtocolClient> {
    const client = new ProtocolClient(new WebSocket(url, options.ws), url);
    return client.whenOpen(options.timeoutMs ?? DEFAULT_WAIT_MS);
  }

  /**
   * Opens a connection and resolves once its first message, the welcome, arrived. Rejects as {@link open} does, and
   * when the connection closes before the welcome or its first message is something else.
   */
  static async connect(url: string, options: OpenOptions = {}): Promise<ProtocolClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const client = await ProtocolClient.open(url, options);
    try {
      const first = await client.waitFor(() => true, 'the welcome', timeoutMs);
      if (first.ev !== 'welcome') throw new Error(`the first message from ${url} is not the welcome: ${JSON.stringify(first)}`);
    } catch (error) {
      await client.terminate();
      throw error;
    }
    return client;
  }

  /** The welcome (the first message); throws when the first message is not one. */
  get welcome(): Welcome {
    const first = this.messages[0];
    if (first?.ev !== 'welcome') throw new Error(`no welcome from ${this.url}; first message: ${JSON.stringify(first)}`);
    return first as unknown as Welcome;
  }

  /** This connection's session id, from the welcome. */
  get session(): string {
    return this.welcome.session;
  }

  /** How the connection ended, or null while it is open (or opening). */
  get closeInfo(): CloseInfo | null {
    return this.closeState;
  }

  /** Sends `message` as one JSON text frame. */
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends `data` as one frame as it is: a string as a text frame, a Buffer as a binary frame (for abuse tests). */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Sends `{op, ref, ...fields}` with a fresh ref and resolves with its reply, a success or an error. */
  request(op: string, fields: Record<string, unknown> = {}, timeoutMs = DEFAULT_WAIT_MS): Promise<ServerMessage> {
    const ref = this.nextRef++;
    const reply = this.waitFor((m) => m.ref === ref && 'ok' in m && m.ev === undefined, `the reply to ${op} #${ref}`, timeoutMs);
    this.send({ op, ref, ...fields });
    return reply;
  }

  /** As {@link request}, and rejects (the reply attached as `reply`) unless the reply is a success. */
  async ok(op: string, fields: Record<string, unknown> = {}, timeoutMs = DEFAULT_WAIT_MS): Promise<ServerMessage> {
    const reply = await this.request(op, fields, timeoutMs);
    if (reply.ok !== true) throw Object.assign(new Error(`${op} failed: ${JSON.stringify(reply.error)}`), { reply });
    return reply;
  }

  /** As {@link request}, and resolves with the error of an error reply (rejects on a success). */
  async fails(op: string, fields: Record<string, unknown> = {}, timeoutMs = DEFAULT_WAIT_MS): Promise<ReplyError> {
    const reply = await this.request(op, fields, timeoutMs);
    if (reply.ok !== false) throw new Error(`${op} succeeded: ${JSON.stringify(reply)}`);
    return reply.error as ReplyError;
  }

  /** Resolves with the first message, received or to come, that matches; rejects naming `label` after the timeout. */
  async waitFor(predicate: MessagePredicate, label = 'a message', timeoutMs = DEFAULT_WAIT_MS): Promise<ServerMessage> {
    const [first] = await this.log.wait(predicate, 1, label, timeoutMs);
    return first as ServerMessage;
  }

  /** Resolves, once `count` messages match, with every message that matches then, in arrival order. */
  waitForCount(predicate: MessagePredicate, count: number, label = 'messages', timeoutMs = DEFAULT_WAIT_MS): Promise<ServerMessage[]> {
    return this.log.wait(predicate, count, label, timeoutMs);
  }

  /** Waits for an event `ev` whose given `fields` equal the message's (objects compared as JSON). */
  event(ev: string, fields: Record<string, unknown> = {}, timeoutMs = DEFAULT_WAIT_MS): Promise<ServerMessage> {
    return this.waitFor((m) => m.ev === ev && hasFields(m, fields), `${ev} ${JSON.stringify(fields)}`, timeoutMs);
  }

  /** The events `ev` received so far whose given `fields` equal the message's. */
  events(ev: string, fields: Record<string, unknown> = {}): ServerMessage[] {
    return this.messages.filter((m) => m.ev === ev && hasFields(m, fields));
  }

  /** Resolves with how the connection closed, or rejects when it is still open after `timeoutMs`. */
  closedWithin(timeoutMs = DEFAULT_WAIT_MS): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the connection to ${this.url} was not closed within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.closed, late]).finally(() => clearTimeout(timer));
  }

  /** Closes with `code` (1000 ends the session) and resolves once closed; a connection still opening is dropped. Idempotent. */
  close(code = 1000, reason?: string): Promise<CloseInfo> {
    if (this.closeState === null) {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
      else this.ws.terminate();
    }
    return this.closed;
  }

  /** Drops the connection without a close frame (the session stays resumable) and resolves once closed. Idempotent. */
  terminate(): Promise<CloseInfo> {
    if (this.closeState === null) this.ws.terminate();
    return this.closed;
  }

  private whenOpen(timeoutMs: number): Promise<ProtocolClient> {
    const ws = this.ws;
    return new Promise((resolve, reject) => {
      const settle = (error: Error | null): void => {
        clearTimeout(timer);
        ws.off('open', onOpen);
        ws.off('unexpected-response', onRefused);
        ws.off('error', onError);
        if (error) {
          ws.terminate();
          reject(error);
        } else resolve(this);
      };
      const onOpen = (): void => settle(null);
      const onRefused = (_request: unknown, response: { statusCode?: number; resume(): void }): void => {
        response.resume();
        settle(new UpgradeRefusedError(this.url, response.statusCode ?? 0));
      };
      const onError = (error: Error): void => settle(error);
      const timer = setTimeout(() => settle(new Error(`the connection to ${this.url} did not open within ${timeoutMs} ms`)), timeoutMs);
      ws.once('open', onOpen);
      ws.once('unexpected-response', onRefused);
      ws.once('error', onError);
    });
  }

  private receive(data: RawData): void {
    const text = Buffer.isBuffer(data) ? data.toString() : Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data).toString();
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.unparsable.push(text);
      return;
    }
    this.frames.push(frame);
    for (const item of Array.isArray(frame) ? frame : [frame]) {
      if (typeof item === 'object' && item !== null && !Array.isArray(item)) this.log.add(item as ServerMessage);
    }
  }

  private describeConnection(): string {
    const state = this.closeState ? `closed with ${this.closeState.code} ${JSON.stringify(this.closeState.reason)}` : 'open';
    return `the connection to ${this.url} is ${state}; last messages: ${JSON.stringify(this.messages.slice(-5))}`;
  }
}

/** Whether each of `fields` equals the message's field (objects compared as JSON). */
function hasFields(message: ServerMessage, fields: Record<string, unknown>): boolean {
  for (const [key, value] of Object.entries(fields)) {
    const actual = message[key];
    if (typeof value === 'object' && value !== null) {
      if (JSON.stringify(actual) !== JSON.stringify(value)) return false;
    } else if (actual !== value) return false;
  }
  return true;
}
