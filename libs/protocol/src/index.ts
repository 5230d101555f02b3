/**
 * @rooms-kit/protocol: the wire contract of PROTOCOL.md (v1) as types, constants, validation of everything a client
 * sends (server side) and of everything a server sends (client side), and encoders for every frame.
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
export { decodeRequest } from './decode.js';
export type { DecodeResult } from './decode.js';
export {
  encodeBatch,
  encodeErrorReply,
  encodeEvent,
  encodeMessageEvent,
  encodeMessageEventJson,
  encodeReply,
  encodeRequest,
} from './encode.js';
export { ProtocolError } from './protocol-error.js';
export { decodeServerFrame } from './server-frame.js';
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
