/**
 * @rooms-kit/client: the TypeScript client SDK of the rooms gateway (PROTOCOL.md v1), for browsers and Node.
 * Promise-returning requests, typed events, auto-reconnect with resume, and per-group offset dedupe.
 */
export { RoomsClient } from './client.js';
export type {
  BroadcastOptions,
  ClientState,
  CreateOptions,
  DisconnectInfo,
  JoinOptions,
  ReconnectInfo,
  RoomsClientEvents,
  RoomsClientOptions,
} from './client.js';
export { RoomsClientError } from './errors.js';
export type { ClientErrorCode, GapInfo, LostRange } from './errors.js';
export { backoffDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export type { WebSocketConstructor, WebSocketLike } from './websocket.js';
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
} from '@rooms-kit/protocol';
