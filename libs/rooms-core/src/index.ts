export {
  ERROR_CATALOG,
  ERROR_CODES,
  GROUP_ID_PATTERN,
  MAX_GROUP_ID_LENGTH,
  RoomsError,
  isErrorCode,
  isValidGroupId,
  toRoomsError,
} from '@rooms-kit/contract';
export type { ErrorCode, WireError } from '@rooms-kit/contract';
export * from './types.js';
export type { Clock, Now } from './clock.js';
export { systemClock } from './clock.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export type { DeliveryEvent, DeliveryPort } from './delivery.js';
export type { GroupLifecycleListener, GroupMachineEvent, GroupMachineInput } from './group-machine.js';
export { GroupMachine, visibleState } from './group-machine.js';
export { MembershipRegistry } from './membership-registry.js';
export type { AfterHook, BeforeHook, HookContext, HookOp } from './hooks.js';
export { HookRegistry } from './hooks.js';
export type {
  GroupSnapshot,
  JoinOutcome,
  ReplicaEvent,
  ReplicaHandler,
  Replicator,
  SessionRecord,
} from './replicator.js';
export type { InMemoryStoreOptions } from './in-memory-store.js';
export { InMemoryStore } from './in-memory-store.js';
export { InMemoryReplicator } from './in-memory-replicator.js';
export { stateOfSnapshot } from './local-group.js';
export type {
  CreateRequest,
  CreateResult,
  JoinResult,
  NodeManagerOptions,
  PublishResult,
  ResumedGroup,
  ResumeResult,
} from './node-manager.js';
export { NodeManager } from './node-manager.js';
