import type { EventByName, WelcomeEvent } from '@rooms-kit/protocol/client';
import type { RoomsClientError } from './errors.js';
import type { CloseInfo } from './transports/transport.js';

/** Payload of the `disconnect` event: how the connection ended and whether the client will reconnect by itself. */
export interface DisconnectInfo extends CloseInfo {
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

/**
 * The client's events and their payloads: each server event of the protocol under its own name, with the
 * protocol's payload, but `error`; and the client's own `disconnect` and `reconnect`.
 *
 * - `welcome`: every connection's welcome (the first, and each after a reconnect).
 * - `message`: a message of a group, in offset order; offsets already delivered are dropped, so each offset is
 *   delivered at most once. After a gap (messages lost in flight) the later ones are held until the gap is
 *   replayed; offsets that cannot be recovered are skipped and reported by an `error` event with code `GAP`.
 * - `joined`, `left`, `rejoined`, `discarded`: as the server sent them.
 */
export interface RoomsClientEvents extends Omit<EventByName, 'error'> {
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
