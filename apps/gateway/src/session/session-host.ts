import { MAX_SESSION_ID_LENGTH } from '@rooms-kit/contract';
import type { Identity } from '../auth.js';
import type { Transport } from '../transports/transport.js';
import { ClientSession } from './client-session.js';
import type { SessionFate } from './session-lifecycle.js';
import type { SessionServices } from './session-services.js';

/** What a connection asks for (the `session` and `resume` query parameters): neither for a new session, both to resume. */
export interface SessionRequest {
  session: string | null;
  resume: string | null;
}

/**
 * The client sessions of this node's live connections, whatever their transport: opens a session on a new
 * connection (new, resume, or refused with 4001 when the request is malformed), beats the heartbeat of all of them
 * from one gateway-wide interval (from construction until {@link close}), and closes them all for a drain or a
 * shutdown. A session leaves the live set when its connection ends; the session registry keeps it until it was
 * settled.
 */
export class SessionHost {
  private readonly live = new Set<ClientSession>();
  private readonly services: SessionServices;
  private heartbeat: NodeJS.Timeout | null = null;

  /** `services` without `onEnded`, which the host supplies. */
  constructor(services: Omit<SessionServices, 'onEnded'>) {
    this.services = { ...services, onEnded: (session) => this.live.delete(session) };
    this.heartbeat = setInterval(() => {
      for (const session of this.live) session.heartbeat();
    }, services.config.heartbeatMs);
  }

  /** Sessions with a live connection. */
  get count(): number {
    return this.live.size;
  }

  /** Bytes waiting to reach clients, over every live session. Computed on each call. */
  get pendingBytes(): number {
    let bytes = 0;
    for (const session of this.live) bytes += session.pendingBytes;
    return bytes;
  }

  /** Opens the session a new connection on `transport` asked for (see {@link SessionRequest}). */
  open(transport: Transport, identity: Identity, request: SessionRequest): ClientSession {
    this.services.stats.connectionsOpened++;
    const session = new ClientSession(transport, identity, this.services);
    this.live.add(session);
    const { session: id, resume } = request;
    if (id === null && resume === null) session.startNew();
    else if (id !== null && resume !== null && id !== '' && id.length <= MAX_SESSION_ID_LENGTH) session.startResume(id, resume);
    else session.refuse('resume needs session and resume');
    return session;
  }

  /** Closes every live connection with `code`, settling each session by `fate`; returns those sessions. */
  closeAll(code: number, fate: SessionFate, reason: string): ClientSession[] {
    const sessions = [...this.live];
    for (const session of sessions) session.close(code, fate, reason);
    return sessions;
  }

  /** Stops the heartbeats and drops every live connection, leaving the sessions to the kernel. Idempotent. */
  close(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    for (const session of [...this.live]) session.terminate('forget');
    this.live.clear();
    this.services.registry.clear();
  }
}
