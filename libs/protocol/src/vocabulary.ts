/**
 * The wire vocabulary both sides of docs/protocol.md (v1) speak, re-exported by the client and the server entry points:
 * the message types, op and event names, reasons, group id rules, limits and close codes. Nothing here runs code at
 * import or reaches a schema compiler.
 */
export type { ErrorCode, WireError } from '@rooms-kit/contract';
export {
  DISCARD_REASONS,
  EVENT_NAMES,
  GROUP_ID_PATTERN,
  GROUP_STATES,
  LEAVE_REASONS,
  MAX_GROUP_ID_LENGTH,
  MAX_INTERVAL_MS,
  MAX_TTL_SECONDS,
  OPS,
  PROTOCOL_PATH,
  isValidGroupId,
} from './constants.js';
export type { DiscardReason, EventName, GroupState, LeaveReason, Op } from './constants.js';
export { CloseCode } from '@rooms-kit/contract';
export type { RawFrame } from './text.js';
export type {
  BroadcastRequest,
  BroadcastResult,
  CreateRequest,
  CreateResult,
  DiscardedEvent,
  ErrorEvent,
  ErrorReply,
  EventByName,
  GroupRequest,
  GroupResult,
  GroupsRequest,
  GroupsResult,
  JoinRequest,
  JoinResult,
  JoinedEvent,
  JsonObject,
  LeaveRequest,
  LeaveResult,
  LeftEvent,
  Member,
  MembersRequest,
  MembersResult,
  MessageEvent,
  PingRequest,
  PingResult,
  RejoinedEvent,
  Reply,
  Request,
  RequestBase,
  RequestByOp,
  RequestFields,
  Result,
  ResultByOp,
  ServerEvent,
  ServerMessage,
  SuccessReply,
  WelcomeEvent,
} from './types.js';
