import { CloseCode, encodeRequest } from '@rooms-kit/protocol';
import type {
  BroadcastResult,
  CreateResult,
  DiscardedEvent,
  GroupResult,
  GroupsResult,
  JoinResult,
  JoinedEvent,
  LeaveResult,
  LeftEvent,
  MembersResult,
  MessageEvent,
  Op,
  RejoinedEvent,
  Reply,
  Request,
  RequestFields,
  ResultByOp,
  ServerEvent,
  ServerMessage,
  WelcomeEvent,
} from '@rooms-kit/protocol';
import { backoffDelay } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { Connection } from './connection.js';
import type { CloseInfo } from './connection.js';
import { Emitter } from './emitter.js';
import { RoomsClientError } from './errors.js';
import { MessageSequencer } from './message-sequencer.js';
import { OffsetTracker } from './offsets.js';
import { connectionUrl } from './url.js';
import type { WebSocketConstructor } from './websocket.js';

/** Options of a {@link RoomsClient}. */
export interface RoomsClientOptions {
  /** The gateway, e.g. `wss://rooms.example.com` (path `/v1` is added when the URL has none). */
  url: string;
  /**
   * The auth token (`?token=`), or a function returning one, called before every connection attempt (so an
   * expired token can be replaced; with a function, a close with 1008 is retried too).
   */
  token?: string | (() => string | Promise<string>);
  /** The WebSocket implementation; default `globalThis.WebSocket`. In Node without one, pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Auto-reconnect after a drop: on by default, backoff from `minDelayMs` (250) doubling up to `maxDelayMs` (10000). */
  reconnect?: { enabled?: boolean; minDelayMs?: number; maxDelayMs?: number };
  /**
   * How long a request waits for its reply, and a connection for its welcome, in ms (default 10000). Also how long
   * messages held after a gap wait, while connected, for the gap's replay to make progress.
   */
  requestTimeoutMs?: number;
  /** How many messages per group may be held while a gap is recovered (default 10000); beyond, the gap is given up. */
  maxHeldMessages?: number;
}

/**
 * Where the client is: `idle` (no connection; `connect()` may be called), `connecting` (a `connect()` in progress),
 * `open` (welcomed: requests may be sent), `reconnecting` (dropped, waiting or dialling to resume), `closed`
 * (`close()` was called: final).
 */
export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Payload of the `disconnect` event: how the connection ended and whether the client will reconnect by itself. */
export interface DisconnectInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
}

/**
 * Payload of the `reconnect` event. `resumed` true: the session and its memberships survived, missed messages are
 * replayed. False: the resume was refused (4001) or the session had ended, this is a new session with no groups,
 * and the application should join its groups again.
 */
export interface ReconnectInfo {
  resumed: boolean;
  welcome: WelcomeEvent;
}

/** The client's events and their payloads. */
export interface RoomsClientEvents {
  /** Every connection's welcome (the first, and each after a reconnect). */
  welcome: WelcomeEvent;
  joined: JoinedEvent;
  left: LeftEvent;
  /**
   * A message of a group, in offset order; offsets already delivered are dropped, so each offset is delivered at
   * most once. After a gap (messages lost in flight) the later ones are held until the gap is replayed; offsets that
   * cannot be recovered are skipped and reported by an `error` event with code `GAP`.
   */
  message: MessageEvent;
  discarded: DiscardedEvent;
  rejoined: RejoinedEvent;
  /**
   * A server `error` event, an error reply to no request (`"ref":null`), a frame breaking the protocol, or messages
   * of a group lost for good (`GAP`, with `gap` saying which).
   */
  error: RoomsClientError;
  /**
   * A welcomed connection ended (also after `close()`, with `willReconnect` false), or reconnecting gave up (a
   * final close code such as 4003 during a reconnect; `willReconnect` false).
   */
  disconnect: DisconnectInfo;
  /** A connection was welcomed again after a drop (or after a `connect()` following one). */
  reconnect: ReconnectInfo;
}

/** Options of `create`: every field of the `create` op. */
export type CreateOptions = RequestFields<'create'>;
/** Options of `join`: `data` (join payload) and `since` (replay the messages after this offset). */
export type JoinOptions = Omit<RequestFields<'join'>, 'group'>;
/** Options of `broadcast`: `self` (also deliver to the sender). */
export type BroadcastOptions = Omit<RequestFields<'broadcast'>, 'group' | 'data'>;

interface Pending {
  op: Op;
  fields: Record<string, unknown>;
  timer: ReturnType<typeof setTimeout>;
  resolve(result: unknown): void;
  reject(error: RoomsClientError): void;
}

interface Waiter {
  resolve(welcome: WelcomeEvent): void;
  reject(error: RoomsClientError): void;
}

type DialResult = { ok: true } | ({ ok: false } & CloseInfo);

const DEFAULT_MIN_DELAY_MS = 250;
const DEFAULT_MAX_DELAY_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_HELD = 10_000;
/** Close code reported when an attempt failed before any socket existed (token provider or constructor threw). */
const ABNORMAL = 1006;

function isEvent(message: ServerMessage): message is ServerEvent {
  return 'ev' in message;
}

/**
 * A client of the rooms gateway (PROTOCOL.md v1), for browsers and Node. Requests return promises that reject
 * with {@link RoomsClientError}; server events and connection changes are delivered through `on()`.
 *
 * Reconnection: when a welcomed connection drops for any reason but `close()`, pending requests reject with a
 * temporary `DISCONNECTED`, `disconnect` is emitted, and the client reconnects with exponential backoff using
 * `?session=&resume=`. A refused resume (close 4001) is followed at once by a fresh connection (new session,
 * `reconnect` with `resumed:false`). A close with 1000 or 4003 (kicked) by the server ends the session: no
 * reconnect. Messages whose offset was already delivered for their group are dropped; a gap in a group's offsets
 * (messages written to a connection that died) is recovered with `join` `since` before later messages are delivered
 * (see {@link MessageSequencer}).
 */
export class RoomsClient {
  readonly #url: string;
  readonly #token: RoomsClientOptions['token'];
  readonly #WebSocket: WebSocketConstructor;
  readonly #reconnectEnabled: boolean;
  readonly #backoff: BackoffOptions;
  readonly #timeoutMs: number;
  readonly #events = new Emitter<RoomsClientEvents>();
  readonly #offsets = new OffsetTracker();
  readonly #pending = new Map<number, Pending>();
  readonly #sequencer: MessageSequencer;
  #state: ClientState = 'idle';
  /** The current socket, welcomed or still dialling. */
  #conn: Connection | null = null;
  /** The latest welcome of the current session: what a resume needs. Null when there is no session to resume. */
  #welcome: WelcomeEvent | null = null;
  #nextRef = 1;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #waiters: Waiter[] = [];
  #closing: Promise<void> | null = null;

  /** Throws a TypeError when `url` is not a URL or no WebSocket implementation is available. Does not connect. */
  constructor(options: RoomsClientOptions) {
    const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocket === undefined) {
      throw new TypeError('No WebSocket implementation: pass one as options.WebSocket (e.g. from the ws package)');
    }
    connectionUrl(options.url, {}); // validates the URL now rather than at the first connection
    this.#url = options.url;
    this.#token = options.token;
    this.#WebSocket = WebSocket;
    this.#reconnectEnabled = options.reconnect?.enabled ?? true;
    const minDelayMs = options.reconnect?.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
    this.#backoff = { minDelayMs, maxDelayMs: Math.max(minDelayMs, options.reconnect?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS) };
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#sequencer = new MessageSequencer(
      this.#offsets,
      {
        deliver: (message) => this.#events.emit('message', message),
        recover: (group, since) => this.#request('join', { group, since }),
        gap: (error) => this.#events.emit('error', error),
      },
      { holdMs: this.#timeoutMs, maxHeld: options.maxHeldMessages ?? DEFAULT_MAX_HELD },
    );
  }

  /** Where the client is (see {@link ClientState}). */
  get state(): ClientState {
    return this.#state;
  }

  /** The current session id (also while reconnecting to resume it), or null. */
  get session(): string | null {
    return this.#welcome?.session ?? null;
  }

  /** The last message offset delivered for `group`, or undefined when none is tracked (e.g. to join with `since`). */
  lastOffset(group: string): number | undefined {
    return this.#offsets.last(group);
  }

  /**
   * Subscribes `listener` to `event`; returns the unsubscribe function. Listeners run synchronously as frames are
   * processed, in the order the server sent them.
   */
  on<K extends keyof RoomsClientEvents>(event: K, listener: (payload: RoomsClientEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Connects and resolves with the welcome. When open already, resolves with the current welcome; while connecting
   * or reconnecting, with the next one. From `idle` after a drop (reconnect off or given up), it resumes the
   * session when it can, else starts a new one. Rejects with `CONNECT_FAILED` (temporary) when the attempt fails,
   * `CLOSED` after `close()`.
   */
  connect(): Promise<WelcomeEvent> {
    switch (this.#state) {
      case 'closed':
        return Promise.reject(closedError());
      case 'open':
        if (this.#welcome !== null) return Promise.resolve(this.#welcome);
        break;
      case 'idle':
        this.#state = 'connecting';
        void this.#connectOnce();
        break;
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** `create`: resolves with the group id and its members. */
  create(options: CreateOptions = {}): Promise<CreateResult> {
    return this.#request('create', options);
  }

  /** `join`: resolves with the members, `already`, the latest `offset` (and `recovered` when `since` was given). */
  join(group: string, options: JoinOptions = {}): Promise<JoinResult> {
    return this.#request('join', { ...options, group });
  }

  /** `leave`, with an optional payload for the `left` event. */
  leave(group: string, data?: unknown): Promise<LeaveResult> {
    return this.#request('leave', { group, data });
  }

  /** `broadcast` `data` (any JSON value; undefined is sent as null): resolves with `recipients` and the message's `offset`. */
  broadcast(group: string, data: unknown, options: BroadcastOptions = {}): Promise<BroadcastResult> {
    return this.#request('broadcast', { ...options, group, data: data === undefined ? null : data });
  }

  /** `members` of a group. */
  members(group: string): Promise<MembersResult> {
    return this.#request('members', { group });
  }

  /** `groups`: this session's groups and the latest one. */
  groups(): Promise<GroupsResult> {
    return this.#request('groups', {});
  }

  /** `group`: a group's state, size, nodes, meta and whether it is static. */
  group(group: string): Promise<GroupResult> {
    return this.#request('group', { group });
  }

  /** An application-level round trip. */
  async ping(): Promise<void> {
    await this.#request('ping', {});
  }

  /**
   * Ends the client: stops reconnecting, rejects pending requests with `CLOSED`, closes the socket with `code`
   * (1000 by default, which ends the session on the server; a browser allows only 1000 and 3000-4999). Resolves once
   * the socket has closed. Idempotent: later calls return the same promise. The client cannot be used again.
   */
  close(code: number = CloseCode.NORMAL, reason = ''): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#state = 'closed';
    this.#sequencer.close();
    if (this.#reconnectTimer !== null) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = null;
    }
    const error = closedError();
    this.#failPending(error);
    this.#rejectWaiters(error);
    const conn = this.#conn;
    if (conn === null) {
      this.#closing = Promise.resolve();
    } else {
      conn.close(code, reason);
      this.#closing = conn.done.then(() => undefined);
    }
    return this.#closing;
  }

  #request<O extends Op>(op: O, fields: RequestFields<O>): Promise<ResultByOp[O]> {
    const conn = this.#conn;
    if (this.#state !== 'open' || conn === null) return Promise.reject(this.#notOpenError());
    const ref = this.#nextRef++;
    // Fields first: a JavaScript caller's stray `op` or `ref` cannot override ours.
    const text = encodeRequest({ ...fields, op, ref } as Request);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.delete(ref)) {
          reject(new RoomsClientError('TIMEOUT', `no reply to ${op} within ${this.#timeoutMs} ms`, true));
        }
      }, this.#timeoutMs);
      this.#pending.set(ref, { op, fields, timer, resolve: resolve as (result: unknown) => void, reject });
      if (!conn.send(text)) {
        clearTimeout(timer);
        this.#pending.delete(ref);
        reject(this.#notOpenError());
      }
    });
  }

  #notOpenError(): RoomsClientError {
    if (this.#state === 'closed') return closedError();
    if (this.#state === 'idle') return new RoomsClientError('NOT_CONNECTED', 'not connected: call connect()', false);
    return new RoomsClientError('DISCONNECTED', 'not connected (reconnecting)', true);
  }

  /** One `connect()` from idle: resume when there is a session, fresh when there is none or the resume is refused. */
  async #connectOnce(): Promise<void> {
    const hadSession = this.#welcome !== null;
    const result = await this.#dialResumingFirst('connecting', hadSession);
    if (result.ok || this.#state !== 'connecting') return;
    this.#state = 'idle';
    const detail = result.reason === '' ? '' : `: ${result.reason}`;
    this.#rejectWaiters(new RoomsClientError('CONNECT_FAILED', `could not connect (close code ${result.code}${detail})`, true));
  }

  /**
   * Dials with a resume when there is a session, and once afresh when the server refused the resume (4001) while
   * still in `state`; `announce` says whether a fresh session is reported as a `reconnect` event.
   */
  async #dialResumingFirst(state: 'connecting' | 'reconnecting', announce: boolean): Promise<DialResult> {
    const resume = this.#welcome !== null;
    const result = await this.#dial(resume, announce);
    if (result.ok || !resume || result.code !== CloseCode.RESUME_FAILED || this.#state !== state) return result;
    this.#welcome = null;
    return this.#dial(false, true);
  }

  #scheduleReconnect(): void {
    const delay = backoffDelay(this.#attempt++, this.#backoff);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#reconnectNow();
    }, delay);
  }

  async #reconnectNow(): Promise<void> {
    if (this.#state !== 'reconnecting') return;
    const result = await this.#dialResumingFirst('reconnecting', true);
    if (result.ok || this.#state !== 'reconnecting') return;
    if (this.#isFinal(result.code)) {
      if (result.code === CloseCode.KICKED) this.#welcome = null;
      this.#state = 'idle';
      this.#rejectWaiters(new RoomsClientError('CONNECT_FAILED', `reconnect refused (close code ${result.code})`, false));
      this.#events.emit('disconnect', { ...result, willReconnect: false });
      return;
    }
    this.#scheduleReconnect();
  }

  /** Close codes after which reconnecting cannot help: the session ended, or the token was refused and cannot change. */
  #isFinal(code: number): boolean {
    if (code === CloseCode.NORMAL || code === CloseCode.KICKED) return true;
    return code === CloseCode.POLICY && typeof this.#token !== 'function';
  }

  /**
   * Opens one socket and waits for its welcome (bounded by the request timeout). Resolves ok once the welcome has
   * been handled (state open, events emitted), or with the close when the socket closed before any welcome.
   */
  async #dial(resume: boolean, isReconnect: boolean): Promise<DialResult> {
    const phase = this.#state;
    let token: string | undefined;
    try {
      token = typeof this.#token === 'function' ? await this.#token() : this.#token;
    } catch (error) {
      this.#events.emit('error', new RoomsClientError('CONNECT_FAILED', 'the token provider failed', true, { cause: error }));
      return { ok: false, code: ABNORMAL, reason: 'the token provider failed' };
    }
    if (this.#state !== phase) return { ok: false, code: CloseCode.NORMAL, reason: 'closed' };
    const session = resume ? this.#welcome : null;
    const url = connectionUrl(this.#url, { token, session: session?.session, resume: session?.resumeToken });

    return new Promise<DialResult>((resolve) => {
      let welcomed = false;
      let conn: Connection | null = null;
      const timer = setTimeout(() => conn?.close(), this.#timeoutMs);
      try {
        conn = new Connection(this.#WebSocket, url, {
          messages: (messages) => {
            if (this.#state === 'closed') return;
            for (const message of messages) {
              if (welcomed) {
                this.#dispatch(message);
              } else if (isEvent(message) && message.ev === 'welcome') {
                welcomed = true;
                clearTimeout(timer);
                this.#opened(message, isReconnect);
                resolve({ ok: true });
              } else if (isEvent(message) && message.ev === 'error') {
                this.#events.emit('error', RoomsClientError.fromWire(message.error));
              }
              // Anything else before the welcome breaks the protocol's "welcome first" and is ignored.
            }
          },
          protocolError: (error) => {
            this.#events.emit('error', new RoomsClientError('PROTOCOL', error.message, false, { cause: error }));
          },
          closed: (info) => {
            clearTimeout(timer);
            if (this.#conn === conn) this.#conn = null;
            if (welcomed) this.#lost(info);
            else resolve({ ok: false, ...info });
          },
        });
      } catch (error) {
        clearTimeout(timer);
        resolve({ ok: false, code: ABNORMAL, reason: error instanceof Error ? error.message : String(error) });
        return;
      }
      this.#conn = conn;
    });
  }

  #opened(welcome: WelcomeEvent, isReconnect: boolean): void {
    this.#state = 'open';
    this.#welcome = welcome;
    this.#attempt = 0;
    this.#sequencer.connected(welcome.resumed);
    if (!welcome.resumed) this.#offsets.clear(); // a new session is in no group
    this.#events.emit('welcome', welcome);
    if (isReconnect) this.#events.emit('reconnect', { resumed: welcome.resumed, welcome });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve(welcome);
  }

  /** A welcomed connection closed. */
  #lost(info: CloseInfo): void {
    if (this.#state === 'closed') {
      this.#events.emit('disconnect', { ...info, willReconnect: false });
      return;
    }
    this.#sequencer.disconnected();
    this.#failPending(new RoomsClientError('DISCONNECTED', `connection lost (close code ${info.code})`, true));
    if (info.code === CloseCode.NORMAL || info.code === CloseCode.KICKED) this.#welcome = null; // the session ended
    const willReconnect = this.#reconnectEnabled && !this.#isFinal(info.code);
    this.#state = willReconnect ? 'reconnecting' : 'idle';
    this.#attempt = 0;
    this.#events.emit('disconnect', { ...info, willReconnect });
    // A listener may have called close() (or connect(), when idle).
    if (this.#state === 'reconnecting' && this.#reconnectTimer === null) this.#scheduleReconnect();
  }

  #dispatch(message: ServerMessage): void {
    if (!isEvent(message)) {
      this.#settle(message);
      return;
    }
    switch (message.ev) {
      case 'message':
        this.#sequencer.receive(message);
        return;
      case 'discarded':
        this.#sequencer.drop(message.group);
        this.#offsets.forget(message.group);
        this.#events.emit('discarded', message);
        return;
      case 'error':
        this.#events.emit('error', RoomsClientError.fromWire(message.error));
        return;
      case 'joined':
        this.#events.emit('joined', message);
        return;
      case 'left':
        this.#events.emit('left', message);
        return;
      case 'rejoined':
        this.#events.emit('rejoined', message);
        return;
      case 'welcome':
        return; // only the first frame of a connection means anything
    }
  }

  #settle(reply: Reply): void {
    if (reply.ref === null) {
      // The error of a request without ref, or of one whose ref the server could not read.
      if (!reply.ok) this.#events.emit('error', RoomsClientError.fromWire(reply.error));
      return;
    }
    const pending = this.#pending.get(reply.ref);
    if (pending === undefined) return; // timed out already
    this.#pending.delete(reply.ref);
    clearTimeout(pending.timer);
    if (!reply.ok) {
      pending.reject(RoomsClientError.fromWire(reply.error));
      return;
    }
    const { ref: _ref, ok: _ok, ...result } = reply;
    this.#track(pending, result as Record<string, unknown>);
    pending.resolve(result);
  }

  /** Keeps the offset tracking in step with the session's memberships. */
  #track(pending: Pending, result: Record<string, unknown>): void {
    const group = result.group;
    if (typeof group !== 'string') return;
    if (pending.op === 'join' && typeof result.offset === 'number') {
      const since = pending.fields.since;
      this.#offsets.joined(group, result.offset, typeof since === 'number' ? since : undefined);
    } else if (pending.op === 'create' && pending.fields.join !== false && this.#offsets.last(group) === undefined) {
      this.#offsets.created(group);
    } else if (pending.op === 'leave') {
      this.#sequencer.drop(group);
      this.#offsets.forget(group);
    }
  }

  #failPending(error: RoomsClientError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
  }

  #rejectWaiters(error: RoomsClientError): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}

function closedError(): RoomsClientError {
  return new RoomsClientError('CLOSED', 'the client is closed', false);
}
