import { RoomsError } from '@rooms-kit/contract';
import type { Logger } from '../logger.js';
import type { ClusterBus } from '../port/cluster-bus.js';
import type { SessionStore } from '../port/session-store.js';
import type { NodeId, SessionId } from '../types.js';
import type { NodeMessage } from './node-messages.js';
import { parseNodeMessage } from './node-messages.js';
import type { SessionService } from './session-service.js';

/** Options of a `SessionMessenger`. */
export interface SessionMessengerOptions {
  nodeId: NodeId;
  bus: ClusterBus;
  store: Pick<SessionStore, 'read' | 'drop'>;
  /** This node's sessions: which it holds, and how one ends when another node says so. */
  sessions: Pick<SessionService, 'has' | 'kick' | 'forgetTaken'>;
  logger: Logger;
}

/**
 * SessionMessenger: what the kernels of a cluster tell each other about sessions over the cluster bus (`NodeMessage`):
 * `taken` (a session the receiver held was resumed on the sender) and `kick` (end a session wherever it is held).
 */
export class SessionMessenger {
  constructor(private readonly options: SessionMessengerOptions) {}

  /** See `NodeManager.kick`. */
  async kick(session: SessionId): Promise<boolean> {
    const { bus, nodeId, sessions, store } = this.options;
    if (sessions.has(session)) {
      await sessions.kick(session);
      return true;
    }
    const record = await store.read(session);
    if (!record) return false;
    // A record that still names this node has nobody to tell: the session is not registered here any more.
    if (record.node === nodeId) return true;
    const message: NodeMessage = { type: 'kick', session };
    try {
      await bus.send(record.node, message);
    } catch (error) {
      if (bus.liveNodes().includes(record.node)) throw error;
      // The holder is dead: its record just goes, so the session cannot be resumed elsewhere.
      await store.drop(session, record.node);
    }
    return true;
  }

  /**
   * Tells the node a session was taken from (fire-and-forget): it forgets the session and drops its connection. A
   * holder the bus refuses as dead has nothing to forget, unless it was only taken for dead (a stall): that one learns
   * it from the store when it runs on (its save of the record is refused, see `SessionService.save`).
   */
  tellTaken(node: NodeId, session: SessionId): void {
    const { bus, logger } = this.options;
    const message: NodeMessage = { type: 'taken', session };
    bus.send(node, message).catch((error: unknown) => {
      if (bus.liveNodes().includes(node)) logger.warn({ err: error, node, session }, 'telling the previous holder of a resumed session failed');
      else logger.debug({ err: error, node, session }, 'the previous holder of a resumed session is gone');
    });
  }

  /**
   * A message of another node's kernel (`BackendHandler.onNodeMessage`); the return value is the reply. Anything
   * else than a `NodeMessage` is refused with `BAD_REQUEST` (logged here, once).
   */
  onNodeMessage(from: NodeId, body: unknown): unknown {
    const message = parseNodeMessage(body);
    if (message === null) {
      this.options.logger.warn({ from }, 'unknown node message refused');
      throw new RoomsError('BAD_REQUEST', 'unknown node message');
    }
    if (message.type === 'kick') return this.kickFromNode(from, message.session);
    // The session was resumed elsewhere: forget it here without `left` events; its `rejoined` moves the member.
    this.options.sessions.forgetTaken(message.session);
    return null;
  }

  /** Ends a session held here that another node kicked; resolves whether it was held here. */
  private async kickFromNode(from: NodeId, session: SessionId): Promise<boolean> {
    if (!this.options.sessions.has(session)) return false;
    try {
      await this.options.sessions.kick(session);
    } catch (error) {
      this.options.logger.error({ err: error, session, from }, 'kick from another node failed');
      throw error;
    }
    return true;
  }
}
