/**
 * @rooms-kit/contract: what every part of rooms agrees on, with no dependency and no I/O, so that the kernel, the
 * server, the protocol and the browser SDK share one definition: the error catalog (`RoomsError`), the rules for
 * group ids, the WebSocket close codes, the leave and discard reasons, the group states and the protocol's limits.
 */
export { ERROR_CATALOG, ERROR_CODES, RoomsError, isErrorCode, toRoomsError } from './errors.js';
export type { ErrorCode, WireError } from './errors.js';
export { GROUP_ID_PATTERN, MAX_GROUP_ID_LENGTH, isValidGroupId } from './group-id.js';
export { CloseCode } from './close-codes.js';
export { DISCARD_REASONS, GROUP_STATES, LEAVE_REASONS } from './reasons.js';
export type { DiscardReason, GroupState, LeaveReason } from './reasons.js';
export {
  DEFAULT_LIMITS,
  INVALID_REQUEST_WINDOW_MS,
  MAX_INTERVAL_MS,
  MAX_PAYLOAD_DEPTH,
  MAX_INVALID_REQUESTS,
  MAX_SESSION_ID_LENGTH,
  MAX_TTL_SECONDS,
} from './limits.js';
export { exceedsPayloadDepth } from './payload-depth.js';
export type { GroupId, NodeId, SessionId } from './ids.js';
