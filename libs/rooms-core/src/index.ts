export {
  DEFAULT_LIMITS,
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
export type { GroupLifecycleListener, GroupMachineEvent, GroupMachineInput } from './supervision/group-machine.js';
export { GroupMachine, UNWATCH_DELAY_MS, visibleState } from './supervision/group-machine.js';
export { MembershipRegistry } from './membership-registry.js';
export type { AfterHook, BeforeHook, HookContext, HookOp } from './hooks.js';
export { HookRegistry } from './hooks.js';
export type { Backend, BackendHandler } from './port/backend.js';
export type { GroupLog, GroupSnapshot, JoinOutcome, ReassertedGroup, ReplicaEvent, RestoredMessage } from './port/group-log.js';
export type { SessionRecord, SessionStore, TakenSession, TakeOptions } from './port/session-store.js';
export type { ClusterBus, SendOptions } from './port/cluster-bus.js';
export { DEFAULT_SEND_TIMEOUT_MS } from './port/cluster-bus.js';
export type { InMemoryStoreOptions } from './memory/in-memory-store.js';
export { InMemoryStore } from './memory/in-memory-store.js';
export { InMemoryBackend } from './memory/in-memory-backend.js';
export type { Schedule, WatchTableHooks } from './replication/watch-table.js';
export { WatchTable } from './replication/watch-table.js';
export { GroupWatch } from './replication/group-watch.js';
export type { StoredMessage } from './replication/gap-recovery.js';
export { recoveryDelayMs, recoveryEvents } from './replication/gap-recovery.js';
export type { GapRecovererOptions, RecoverySource } from './replication/gap-recoverer.js';
export { GapRecoverer } from './replication/gap-recoverer.js';
export type { LivenessObservation, LivenessPolicyOptions, LivenessVerdict } from './replication/liveness-policy.js';
export { defaultCheckMs, LivenessPolicy } from './replication/liveness-policy.js';
export type { TestApi } from './port-contract/test-api.js';
export type { ContractCluster, ContractStoreOptions, MakeNodes } from './port-contract/fixtures.js';
export { backendContract } from './port-contract/backend-contract.js';
export type { Recorded } from './port-contract/recording-handler.js';
export { RecordingHandler } from './port-contract/recording-handler.js';
export { HeldReconnects } from './port-contract/held-reconnects.js';
export { ContractAssertionError } from './port-contract/assertions.js';
export { stateOfSnapshot } from './replica/local-group.js';
export type { CreateRequest, CreateResult, JoinResult, PublishResult } from './groups/group-requests.js';
export type { ResumedGroup, ResumeResult } from './sessions/session-service.js';
export type { NodeManagerOptions } from './node/node-manager-options.js';
export { NodeManager } from './node/node-manager.js';
export type { NodeFigures, NodeView, SessionView } from './sessions/session-view.js';
