import { RoomsError } from '@rooms-kit/contract';
import type { Logger } from '../logger.js';
import type { ClusterBus } from '../port/cluster-bus.js';
import type { SessionStore } from '../port/session-store.js';
import type { SessionRecord } from '../port/session-store.js';
import type { GroupId, NodeId, SessionId } from '../types.js';
import type { NodeMessage } from './node-messages.js';
import { parseNodeMessage } from './node-messages.js';
import type { SessionService } from './session-service.js';
import type { NodeFigures, NodeView, SessionView } from './session-view.js';
import { parseNodeFigures, parseSessionView } from './session-view.js';

/** How long `nodes()` waits for another node's figures before it shows them as null. */
export const FIGURES_WAIT_MS = 2000;

/** Options of a `SessionMessenger`. */
export interface SessionMessengerOptions {
  nodeId: NodeId;
  bus: ClusterBus;
  store: Pick<SessionStore, 'read' | 'drop'>;
  /** This node's sessions: which it holds, and how one ends when another node says so. */
  sessions: Pick<SessionService, 'has' | 'kick' | 'forgetTaken' | 'memberFor'>;
  /** The groups a session held here is in. */
  groupsOf(session: SessionId): GroupId[];
  /** This node's figures, for `nodes()` here and for the other nodes that ask. */
  figures(): NodeFigures;
  logger: Logger;
}

/**
 * SessionMessenger: what the kernels of a cluster tell each other about sessions over the cluster bus (`NodeMessage`):
 * `taken` (a session the receiver held was resumed on the sender), `kick` (end a session wherever it is held), and
 * the admin views that only the holder can give exactly (`describe` a session, a node's `figures`).
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
   * See `NodeManager.describeSession`: the holder's view (asked over the bus when another node holds it). A session
   * whose record names a dead node is shown from that record, as not connected (it may still be resumed elsewhere).
   * Null for a session unknown everywhere. Rejects `UNAVAILABLE` when the store or a live holder cannot be reached.
   */
  async describe(session: SessionId): Promise<SessionView | null> {
    const { bus, nodeId, store } = this.options;
    const local = await this.localView(session);
    if (local) return local;
    const record = await store.read(session);
    // A record that still names this node, of a session not registered here: it just ended (or is ending) here.
    if (!record || record.node === nodeId) return null;
    const message: NodeMessage = { type: 'describe', session };
    try {
      return parseSessionView(await bus.send(record.node, message));
    } catch (error) {
      if (bus.liveNodes().includes(record.node)) throw error;
      return viewOfRecord(record);
    }
  }

  /**
   * See `NodeManager.nodes`: every live node, this one first with its figures; each other node is asked for its own,
   * waiting at most `FIGURES_WAIT_MS` (null figures when it does not answer in time or cannot be reached).
   */
  async nodes(): Promise<NodeView[]> {
    const { bus, nodeId } = this.options;
    const others = bus.liveNodes().filter((id) => id !== nodeId);
    const own: NodeView = { id: nodeId, self: true, ...this.options.figures() };
    const message: NodeMessage = { type: 'figures' };
    const asked = others.map(async (id): Promise<NodeView> => {
      const figures = await bus.send(id, message, { timeoutMs: FIGURES_WAIT_MS }).then(parseNodeFigures, () => null);
      return { id, self: false, connections: figures?.connections ?? null, groups: figures?.groups ?? null };
    });
    return [own, ...(await Promise.all(asked))];
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
    if (message.type === 'describe') return this.localView(message.session);
    if (message.type === 'figures') return this.options.figures();
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

  /** The view of a session registered here (connected or suspended); null when it is not. */
  private async localView(session: SessionId): Promise<SessionView | null> {
    const { sessions, store, nodeId } = this.options;
    if (!sessions.has(session)) return null;
    // Only the record knows whether the connection dropped: a suspended session's record has an expiry. A session
    // without a record (registered without a resume token: embedders only, the gateway always gives one) shows as connected.
    const record = await store.read(session);
    if (!sessions.has(session)) return null;
    const suspended = record !== null && record.node === nodeId && record.expiresAt !== null;
    const user = sessions.memberFor(session, undefined).user ?? null;
    return { session, user, node: nodeId, connected: !suspended, groups: this.options.groupsOf(session) };
  }
}

/** The view of a session held by a dead node, from its record: not connected, in the groups the record names. */
function viewOfRecord(record: SessionRecord): SessionView {
  return { session: record.id, user: record.user ?? null, node: record.node, connected: false, groups: Object.keys(record.groups) };
}
