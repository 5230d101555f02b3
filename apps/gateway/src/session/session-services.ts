import type { NodeManager } from '@rooms-kit/core';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config.js';
import type { FanoutDelivery } from '../delivery/fanout-delivery.js';
import type { FlushScheduler } from '../delivery/flush-scheduler.js';
import type { IntervalBatcher } from '../delivery/interval-batcher.js';
import type { GatewayStats } from '../gateway-stats.js';
import type { ClientSession } from './client-session.js';
import type { RequestDispatcher } from './request-dispatcher.js';
import type { SessionRegistry } from './session-registry.js';

/** What the gateway gives every client session: one object shared by all of them. */
export interface SessionServices {
  node: NodeManager;
  registry: SessionRegistry<ClientSession>;
  /** The fan-out: the group cursors a session reads its delivered offsets from. */
  delivery: FanoutDelivery;
  dispatcher: RequestDispatcher;
  scheduler: FlushScheduler;
  batcher: IntervalBatcher;
  stats: GatewayStats;
  logger: Logger;
  config: Pick<GatewayConfig, 'rateLimit' | 'maxOutboundBytes' | 'heartbeatMs'>;
  /** Called once when the session's connection has ended (it is no longer a live connection). */
  onEnded(session: ClientSession): void;
}
