import { CloseCode } from '@rooms-kit/protocol/client';
import type {
  BroadcastResult,
  CreateResult,
  GroupResult,
  GroupsResult,
  JoinResult,
  LeaveResult,
  MembersResult,
  Op,
  Reply,
  RequestFields,
  ResultByOp,
  ServerMessage,
  WelcomeEvent,
} from '@rooms-kit/protocol/client';
import { Dialler } from './dialler.js';
import type { ClientState } from './dialler.js';
import { Emitter } from './emitter.js';
import { RoomsClientError, closedError } from './errors.js';
import type { RoomsClientEvents } from './events.js';
import { MessageSequencer } from './message-sequencer.js';
import { OffsetTracker } from './offsets.js';
import type { BroadcastOptions, CreateOptions, JoinOptions, RoomsClientOptions } from './options.js';
import { RequestTracker } from './request-tracker.js';
import type { SettledHook } from './request-tracker.js';
import { webSocketTransport } from './transports/websocket.js';
import type { WebSocketConstructor } from './transports/websocket.js';
import { connectionUrl } from './url.js';

const DEFAULT_MIN_DELAY_MS = 250;
const DEFAULT_MAX_DELAY_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_HELD = 10_000;

/**
 * A client of the rooms gateway (docs/protocol.md v1), for browsers and Node. Requests return promises that reject
 * with {@link RoomsClientError}; server events and connection changes are delivered through `on()`.
 *
 * Reconnection: when a welcomed connection drops for any reason but `close()`, pending requests reject with a
 * temporary `DISCONNECTED`, `disconnect` is emitted, and the client reconnects with exponential backoff using
 * `?session=&resume=`. A refused resume (close 4001) is followed at once by a fresh connection (new session,
 * `reconnect` with `resumed:false`). A close with 1000 or 4003 (kicked) by the server ends the session: no
 * reconnect. Messages whose offset was already delivered for their group are dropped; a gap in a group's offsets
 * (messages written to a connection that died) is recovered with `join` `since` before later messages are delivered
 * (see {@link MessageSequencer}). The client's own broadcasts without `self` are never delivered to it: their offset,
 * from the reply, counts as seen.
 */
export class RoomsClient {
  readonly #events = new Emitter<RoomsClientEvents>();
  readonly #offsets = new OffsetTracker();
  readonly #requests: RequestTracker;
  readonly #sequencer: MessageSequencer;
  readonly #dialler: Dialler;
  #closing: Promise<void> | null = null;

  /** Throws a TypeError when `url` is not a URL or no WebSocket implementation is available. Does not connect. */
  constructor(options: RoomsClientOptions) {
    const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocket === undefined) {
      throw new TypeError('No WebSocket implementation: pass one as options.WebSocket (e.g. from the ws package)');
    }
    connectionUrl(options.url, {}); // validates the URL now rather than at the first connection
    const timeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const minDelayMs = options.reconnect?.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
    const maxDelayMs = Math.max(minDelayMs, options.reconnect?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
    this.#requests = new RequestTracker(timeoutMs, (op, fields, result) => this.#track(op, fields, result));
    this.#sequencer = new MessageSequencer(
      this.#offsets,
      {
        deliver: (message) => this.#events.emit('message', message),
        recover: (group, since) => this.#request('join', { group, since }),
        gap: (error) => this.#events.emit('error', error),
      },
      { holdMs: timeoutMs, maxHeld: options.maxHeldMessages ?? DEFAULT_MAX_HELD },
    );
    this.#dialler = new Dialler(
      {
        url: options.url,
        token: options.token,
        transports: [webSocketTransport(WebSocket)],
        reconnect: options.reconnect?.enabled ?? true,
        backoff: { minDelayMs, maxDelayMs },
        welcomeTimeoutMs: timeoutMs,
      },
      {
        welcomed: (welcome, isReconnect) => this.#welcomed(welcome, isReconnect),
        message: (message) => this.#dispatch(message),
        dropped: (info) => {
          this.#sequencer.disconnected();
          this.#requests.failAll(new RoomsClientError('DISCONNECTED', `connection lost (close code ${info.code})`, true));
        },
        disconnected: (info) => this.#events.emit('disconnect', info),
        error: (error) => this.#events.emit('error', error),
      },
    );
  }

  /** Where the client is (see {@link ClientState}). */
  get state(): ClientState {
    return this.#dialler.state;
  }

  /** The current session id (also while reconnecting to resume it), or null. */
  get session(): string | null {
    return this.#dialler.welcome?.session ?? null;
  }

  /**
   * The last offset of `group` this client has seen, delivered or its own broadcast's (the run without a gap), or
   * undefined when the group is not tracked (e.g. to join with `since`).
   */
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
    return this.#dialler.connect();
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

  /**
   * `broadcast` `data` (any JSON value; undefined is sent as null): resolves with `recipients` and the message's
   * `offset`. Without `self` the message is not delivered back to this client, and its offset counts as seen (no gap),
   * also when a replay carries it after its reply was lost (a rejected promise, e.g. `DISCONNECTED`, does not say
   * whether the server published it). With `self:true` it is delivered once, live or from a replay.
   */
  broadcast(group: string, data: unknown, options: BroadcastOptions = {}): Promise<BroadcastResult> {
    const fields = { ...options, group, data: data === undefined ? null : data };
    const own = this.#sequencer.ownBroadcast(group, options.self === true, fields.data);
    return this.#request('broadcast', fields, (result, unanswered) => own(typeof result?.offset === 'number' ? result.offset : undefined, unanswered));
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
    const error = closedError();
    this.#sequencer.close();
    this.#requests.failAll(error);
    this.#closing = this.#dialler.close(code, reason, error);
    return this.#closing;
  }

  #request<O extends Op>(op: O, fields: RequestFields<O>, settled?: SettledHook<O>): Promise<ResultByOp[O]> {
    if (this.#dialler.state !== 'open') {
      settled?.(undefined);
      return Promise.reject(this.#notOpenError());
    }
    return this.#requests.send(op, fields, (text) => this.#dialler.send(text), () => this.#notOpenError(), settled);
  }

  #notOpenError(): RoomsClientError {
    const state = this.#dialler.state;
    if (state === 'closed') return closedError();
    if (state === 'idle') return new RoomsClientError('NOT_CONNECTED', 'not connected: call connect()', false);
    return new RoomsClientError('DISCONNECTED', 'not connected (reconnecting)', true);
  }

  #welcomed(welcome: WelcomeEvent, isReconnect: boolean): void {
    this.#sequencer.connected(welcome.resumed, welcome.session);
    if (!welcome.resumed) this.#offsets.clear(); // a new session is in no group
    this.#events.emit('welcome', welcome);
    if (isReconnect) this.#events.emit('reconnect', { resumed: welcome.resumed, welcome });
  }

  #dispatch(message: ServerMessage): void {
    if (!('ev' in message)) {
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
    this.#requests.settle(reply.ref, reply);
  }

  /** Keeps the offset tracking in step with the session's memberships. */
  #track(op: Op, fields: Readonly<Record<string, unknown>>, result: Record<string, unknown>): void {
    const group = result.group;
    if (typeof group !== 'string') return;
    if (op === 'join' && typeof result.offset === 'number') {
      const since = fields.since;
      this.#offsets.joined(group, result.offset, typeof since === 'number' ? since : undefined);
    } else if (op === 'create' && fields.join !== false && this.#offsets.last(group) === undefined) {
      this.#offsets.created(group);
    } else if (op === 'leave') {
      this.#sequencer.drop(group);
      this.#offsets.forget(group);
    }
  }
}
