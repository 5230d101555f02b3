/**
 * The phases of a client session, from its connection being accepted to the kernel being told what became of it:
 *
 * ```
 * accepted ─────begin─────▶ handshaking ────hold────▶ welcoming ───handshake-done────▶ open
 *  │                         │                         │                                │
 * end                       end                       end                              end
 *  ▼                         ▼                         ▼                                ▼
 * settled ◀─handshake-done─ abandoned ─────hold─────▶ abandoned-held ─handshake-done─▶ settling ─settle-done─▶ settled
 * ```
 *
 * - `accepted`: the transport is connected; no handshake has begun (a malformed resume request ends it here).
 * - `handshaking`: registering or resuming; the kernel does not hold the session for this connection yet.
 * - `welcoming`: the kernel holds it; the handshake still writes the welcome (and a resume's replay).
 * - `open`: the handshake is over; requests run.
 * - `abandoned` / `abandoned-held`: the connection ended while the handshake was in flight, before / after the kernel
 *   held the session; the handshake finishes first, then the session is settled.
 * - `settling`: the connection ended; the kernel is being told (by the session's fate).
 * - `settled`: done; the session no longer holds anything.
 *
 * The kernel holds the session for this connection in `welcoming`, `open`, `abandoned-held` and `settling`: those
 * must be settled, and those get the kernel's `taken`/`kicked`. A handshake either holds the session or ends the
 * connection, so `handshaking` never sees `handshake-done`. Events a phase does not list leave it unchanged (an end
 * after the end, a hold after the handshake).
 */
export type SessionPhase = 'accepted' | 'handshaking' | 'welcoming' | 'open' | 'abandoned' | 'abandoned-held' | 'settling' | 'settled';

/** What moves a session from one {@link SessionPhase} to the next. */
export type LifecycleEvent = 'begin' | 'hold' | 'handshake-done' | 'end' | 'settle-done';

/**
 * What becomes of the session when its connection ends: `suspend` (resumable for the window), `end` (members get
 * `left` with reason `disconnect` at once), `forget` (nothing to tell the kernel: kicked, taken over, a refused
 * resume, shutting down).
 */
export type SessionFate = 'suspend' | 'end' | 'forget';

const TRANSITIONS: Readonly<Record<SessionPhase, Readonly<Partial<Record<LifecycleEvent, SessionPhase>>>>> = {
  accepted: { begin: 'handshaking', end: 'settled' },
  handshaking: { hold: 'welcoming', end: 'abandoned' },
  welcoming: { 'handshake-done': 'open', end: 'abandoned-held' },
  open: { end: 'settling' },
  abandoned: { hold: 'abandoned-held', 'handshake-done': 'settled' },
  'abandoned-held': { 'handshake-done': 'settling' },
  settling: { 'settle-done': 'settled' },
  settled: {},
};

/** The phase `event` moves `phase` to (`phase` itself when the event does not apply there). */
export function nextPhase(phase: SessionPhase, event: LifecycleEvent): SessionPhase {
  return TRANSITIONS[phase][event] ?? phase;
}

/** True in the phases where the kernel holds the session for this connection (it must be settled). */
export function holdsSession(phase: SessionPhase): boolean {
  return phase === 'welcoming' || phase === 'open' || phase === 'abandoned-held' || phase === 'settling';
}
