/**
 * @rooms-kit/client: the TypeScript client SDK of the rooms gateway (docs/protocol.md v1), for browsers and Node.
 * Promise-returning requests, typed events, auto-reconnect with resume, and per-group offset dedupe.
 */
export { RoomsClient } from './rooms-client.js';
export type { ClientState } from './dialler.js';
export type { DisconnectInfo, ReconnectInfo, RoomsClientEvents } from './events.js';
export type { BroadcastOptions, CreateOptions, JoinOptions, RoomsClientOptions } from './options.js';
export { RoomsClientError } from './errors.js';
export type { ClientErrorCode, GapInfo, LostRange } from './errors.js';
export { backoffDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export type { WebSocketConstructor, WebSocketLike } from './transports/websocket.js';
export type {
  BroadcastResult,
  CreateResult,
  DiscardedEvent,
  ErrorCode,
  GroupResult,
  GroupsResult,
  JoinResult,
  JoinedEvent,
  LeaveResult,
  LeftEvent,
  Member,
  MembersResult,
  MessageEvent,
  RejoinedEvent,
  WelcomeEvent,
} from '@rooms-kit/protocol/client';
