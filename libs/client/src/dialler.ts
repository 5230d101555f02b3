import { CloseCode } from '@rooms-kit/protocol/client';
import type { ServerMessage, WelcomeEvent } from '@rooms-kit/protocol/client';
import { backoffDelay } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { Connection } from './connection.js';
import { RoomsClientError, closedError } from './errors.js';
import type { DisconnectInfo } from './events.js';
import type { RoomsClientOptions } from './options.js';
import type { CloseInfo, TransportFactory, TransportTarget } from './transports/transport.js';

/**
 * Where the client is: `idle` (no connection; `connect()` may be called), `connecting` (a `connect()` in progress),
 * `open` (welcomed: requests may be sent), `reconnecting` (dropped, waiting or dialling to resume), `closed`
 * (`close()` was called: final).
 */
export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What a {@link Dialler} dials and how it retries. */
export interface DiallerOptions {
  /** The gateway URL as the application gave it. */
  url: string;
  token: RoomsClientOptions['token'];
  /** Tried in order on every attempt; the next one only when a transport closed without ever opening. */
  transports: readonly TransportFactory[];
  /** Whether a dropped session is reconnected by itself. */
  reconnect: boolean;
  backoff: BackoffOptions;
  /** How long a connection may take to be welcomed, ms. */
  welcomeTimeoutMs: number;
}

/** What a {@link Dialler} reports to its client, synchronously, in the order of the protocol's events. */
export interface DiallerHooks {
  /** A connection was welcomed (the state is `open` already); runs before `connect()` promises resolve. */
  welcomed(welcome: WelcomeEvent, isReconnect: boolean): void;
  /** One message after the welcome, in order. */
  message(message: ServerMessage): void;
  /** A welcomed connection dropped (not after `close()`): runs before the state changes and `disconnected`. */
  dropped(info: CloseInfo): void;
  /** The `disconnect` event: a welcomed connection ended, or reconnecting gave up. */
  disconnected(info: DisconnectInfo): void;
  /** An `error` event: a server error before the welcome, a frame breaking the protocol, a token provider failure. */
  error(error: RoomsClientError): void;
}

interface Waiter {
  resolve(welcome: WelcomeEvent): void;
  reject(error: RoomsClientError): void;
}

type DialResult = { ok: true } | { ok: false; close: CloseInfo; opened: boolean };

/** Close code reported when an attempt failed before any transport existed (token provider or constructor threw). */
const ABNORMAL = 1006;

/**
 * The connection lifecycle of a client: dials (resuming the session when there is one, afresh when the server
 * refuses the resume with 4001), waits for the welcome, and after a drop reconnects with exponential backoff until
 * welcomed again or a close code says it cannot help (1000 and 4003 end the session; 1008 unless the token comes
 * from a function). Owns the {@link ClientState}, the current connection and the session to resume.
 */
export class Dialler {
  readonly #options: DiallerOptions;
  readonly #hooks: DiallerHooks;
  #state: ClientState = 'idle';
  /** The current connection, welcomed or still dialling. */
  #conn: Connection | null = null;
  /** The latest welcome of the current session: what a resume needs. Null when there is no session to resume. */
  #welcome: WelcomeEvent | null = null;
  #attempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #waiters: Waiter[] = [];

  constructor(options: DiallerOptions, hooks: DiallerHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  /** Where the client is. */
  get state(): ClientState {
    return this.#state;
  }

  /** The latest welcome of the current session (also while reconnecting to resume it), or null. */
  get welcome(): WelcomeEvent | null {
    return this.#welcome;
  }

  /** Sends one text frame on the current connection; false (nothing sent) when there is none or it is not open. */
  send(text: string): boolean {
    return this.#conn?.send(text) ?? false;
  }

  /**
   * Resolves with the welcome: the current one when open, the next one while connecting or reconnecting; from
   * `idle`, starts an attempt (resuming when there is a session). Rejects with `CONNECT_FAILED` (temporary) when the
   * attempt fails, `CLOSED` after `close()`.
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

  /**
   * Ends for good: state `closed`, no more reconnects, `connect()` promises rejected with `error`, the connection
   * closed with `code`. Resolves once it has closed (at once when there is none). Call once.
   */
  close(code: number, reason: string, error: RoomsClientError): Promise<void> {
    this.#state = 'closed';
    if (this.#reconnectTimer !== null) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = null;
    }
    this.#rejectWaiters(error);
    const conn = this.#conn;
    if (conn === null) return Promise.resolve();
    conn.close(code, reason);
    return conn.done.then(() => undefined);
  }

  /** One `connect()` from idle: resume when there is a session, fresh when there is none or the resume is refused. */
  async #connectOnce(): Promise<void> {
    const hadSession = this.#welcome !== null;
    const result = await this.#dialResumingFirst('connecting', hadSession);
    if (result.ok || this.#state !== 'connecting') return;
    this.#state = 'idle';
    const { code, reason } = result.close;
    const detail = reason === '' ? '' : `: ${reason}`;
    this.#rejectWaiters(new RoomsClientError('CONNECT_FAILED', `could not connect (close code ${code}${detail})`, true));
  }

  /**
   * Dials with a resume when there is a session, and once afresh when the server refused the resume (4001) while
   * still in `state`; `announce` says whether a fresh session is reported as a reconnect.
   */
  async #dialResumingFirst(state: 'connecting' | 'reconnecting', announce: boolean): Promise<DialResult> {
    const resume = this.#welcome !== null;
    const result = await this.#dial(resume, announce);
    if (result.ok || !resume || result.close.code !== CloseCode.RESUME_FAILED || this.#state !== state) return result;
    this.#welcome = null;
    return this.#dial(false, true);
  }

  #scheduleReconnect(): void {
    const delay = backoffDelay(this.#attempt++, this.#options.backoff);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#reconnectNow();
    }, delay);
  }

  async #reconnectNow(): Promise<void> {
    if (this.#state !== 'reconnecting') return;
    const result = await this.#dialResumingFirst('reconnecting', true);
    if (result.ok || this.#state !== 'reconnecting') return;
    const { code } = result.close;
    if (this.#isFinal(code)) {
      if (code === CloseCode.KICKED) this.#welcome = null;
      this.#state = 'idle';
      this.#rejectWaiters(new RoomsClientError('CONNECT_FAILED', `reconnect refused (close code ${code})`, false));
      this.#hooks.disconnected({ ...result.close, willReconnect: false });
      return;
    }
    this.#scheduleReconnect();
  }

  /** Close codes after which reconnecting cannot help: the session ended, or the token was refused and cannot change. */
  #isFinal(code: number): boolean {
    if (code === CloseCode.NORMAL || code === CloseCode.KICKED) return true;
    return code === CloseCode.POLICY && typeof this.#options.token !== 'function';
  }

  /**
   * One attempt: gets the token, then tries the transports in order until one is welcomed, one opened but closed
   * before its welcome (the gateway was reached: another transport would not fare better), or the state changed.
   */
  async #dial(resume: boolean, isReconnect: boolean): Promise<DialResult> {
    const phase = this.#state;
    const source = this.#options.token;
    let token: string | undefined;
    try {
      token = typeof source === 'function' ? await source() : source;
    } catch (error) {
      this.#hooks.error(new RoomsClientError('CONNECT_FAILED', 'the token provider failed', true, { cause: error }));
      return failed(ABNORMAL, 'the token provider failed');
    }
    if (this.#state !== phase) return failed(CloseCode.NORMAL, 'closed');
    const session = resume ? this.#welcome : null;
    const target = { url: this.#options.url, params: { token, session: session?.session, resume: session?.resumeToken } };
    let result = failed(ABNORMAL, 'no transport');
    for (const open of this.#options.transports) {
      result = await this.#dialWith(open, target, isReconnect);
      if (result.ok || result.opened || this.#state !== phase) break;
    }
    return result;
  }

  /**
   * Opens one connection and waits for its welcome (bounded by the welcome timeout). Resolves ok once the welcome
   * has been handled (state open, hooks called), or with the close when it closed before any welcome.
   */
  #dialWith(open: TransportFactory, target: TransportTarget, isReconnect: boolean): Promise<DialResult> {
    return new Promise<DialResult>((resolve) => {
      let welcomed = false;
      let conn: Connection | null = null;
      const timer = setTimeout(() => conn?.close(), this.#options.welcomeTimeoutMs);
      try {
        conn = new Connection(open, target, {
          messages: (messages) => {
            if (this.#state === 'closed') return;
            for (const message of messages) {
              if (welcomed) {
                this.#hooks.message(message);
              } else if ('ev' in message && message.ev === 'welcome') {
                welcomed = true;
                clearTimeout(timer);
                this.#opened(message, isReconnect);
                resolve({ ok: true });
              } else if ('ev' in message && message.ev === 'error') {
                this.#hooks.error(RoomsClientError.fromWire(message.error));
              }
              // Anything else before the welcome breaks the protocol's "welcome first" and is ignored.
            }
          },
          protocolError: (error) => {
            this.#hooks.error(new RoomsClientError('PROTOCOL', error.message, false, { cause: error }));
          },
          closed: (info) => {
            clearTimeout(timer);
            if (this.#conn === conn) this.#conn = null;
            if (welcomed) this.#lost(info);
            else resolve({ ok: false, close: info, opened: conn?.opened ?? false });
          },
        });
      } catch (error) {
        clearTimeout(timer);
        resolve(failed(ABNORMAL, error instanceof Error ? error.message : String(error)));
        return;
      }
      this.#conn = conn;
    });
  }

  #opened(welcome: WelcomeEvent, isReconnect: boolean): void {
    this.#state = 'open';
    this.#welcome = welcome;
    this.#attempt = 0;
    this.#hooks.welcomed(welcome, isReconnect);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.resolve(welcome);
  }

  /** A welcomed connection closed. */
  #lost(info: CloseInfo): void {
    if (this.#state === 'closed') {
      this.#hooks.disconnected({ ...info, willReconnect: false });
      return;
    }
    this.#hooks.dropped(info);
    if (info.code === CloseCode.NORMAL || info.code === CloseCode.KICKED) this.#welcome = null; // the session ended
    const willReconnect = this.#options.reconnect && !this.#isFinal(info.code);
    this.#state = willReconnect ? 'reconnecting' : 'idle';
    this.#attempt = 0;
    this.#hooks.disconnected({ ...info, willReconnect });
    // A listener may have called close() (or connect(), when idle).
    if (this.#state === 'reconnecting' && this.#reconnectTimer === null) this.#scheduleReconnect();
  }

  #rejectWaiters(error: RoomsClientError): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }
}

function failed(code: number, reason: string): DialResult {
  return { ok: false, close: { code, reason }, opened: false };
}
