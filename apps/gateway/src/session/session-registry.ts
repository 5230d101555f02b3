import type { SessionId } from '@rooms-kit/core';

/** Why the kernel ended a session a connection holds (NodeManager's `onSessionEnded`). */
export type SessionEndReason = 'taken' | 'kicked';

/** A client session as the registry keeps it. */
export interface RegisteredSession<T> {
  /**
   * Owned by the registry: the session this one took the id from when its handshake began (a resume while another
   * connection still has the session), until the kernel holds the session for this one. Null otherwise.
   */
  displaced: T | null;
  /** True while the kernel holds the session for this connection. */
  readonly holding: boolean;
  /** The kernel ended the session itself. Must not throw. */
  sessionEnded(reason: SessionEndReason): void;
}

/**
 * The one map of this node's client sessions by session id, used by the fan-out (whose connection gets a session's
 * events: {@link get}) and by the kernel's `onSessionEnded` (whose connection holds it: {@link sessionEnded}).
 *
 * A session is in it from its handshake's start ({@link claim}) until it was settled ({@link release}). A resume
 * takes the id over at once, so the live events its replay must be merged with reach it, while the connection it
 * displaces may still hold the session with the kernel: that one stays linked behind it (`displaced`) until the
 * kernel holds the session for the new one ({@link held}) or it was settled, gets the kernel's `taken` meanwhile,
 * and keeps getting the id's events too (the resuming session hands each one on: the kernel may yet refuse the
 * resume). A resume that fails gives the id back to the session it displaced.
 */
export class SessionRegistry<T extends RegisteredSession<T>> {
  private readonly sessions = new Map<SessionId, T>();

  /** Sessions registered. */
  get size(): number {
    return this.sessions.size;
  }

  /** The session that gets `id`'s events (ended ones too, until settled), if any. */
  get(id: SessionId): T | undefined {
    return this.sessions.get(id);
  }

  /** Routes `id` to `session` from now on (its handshake begins); a session registered under `id` is displaced. */
  claim(id: SessionId, session: T): void {
    session.displaced = this.sessions.get(id) ?? null;
    this.sessions.set(id, session);
  }

  /** The kernel holds the session for `session` now: the one it displaced no longer does. */
  held(session: T): void {
    session.displaced = null;
  }

  /**
   * Forgets `session` (settled) under `id`: the session it displaced, if any, gets the id back; a session that is no
   * longer the id's (displaced itself) is just unlinked.
   */
  release(id: SessionId, session: T): void {
    const current = this.sessions.get(id);
    if (current === session) {
      if (session.displaced !== null) this.sessions.set(id, session.displaced);
      else this.sessions.delete(id);
    } else {
      for (let link = current ?? null; link !== null; link = link.displaced) {
        if (link.displaced === session) {
          link.displaced = session.displaced;
          break;
        }
      }
    }
    session.displaced = null;
  }

  /**
   * The kernel ended session `id` (taken over by a resume, or kicked): tells the connection that holds it, which is
   * the registered one or one it displaced.
   */
  sessionEnded(id: SessionId, reason: SessionEndReason): void {
    for (let link = this.sessions.get(id) ?? null; link !== null; link = link.displaced) {
      if (link.holding) {
        link.sessionEnded(reason);
        return;
      }
    }
  }

  /** Forgets every session (shutdown). */
  clear(): void {
    this.sessions.clear();
  }
}
