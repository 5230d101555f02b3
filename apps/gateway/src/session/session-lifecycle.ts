import type { SessionEndReason } from './session-registry.js';

/**
 * What becomes of the session when its connection ends: `suspend` (resumable for the window), `end` (members get
 * `left` with reason `disconnect` at once), `forget` (nothing to tell the kernel: a refused resume, shutting down).
 */
export type SessionFate = 'suspend' | 'end' | 'forget';

/**
 * The phases of a client session, from its connection being accepted to the kernel being told what became of it.
 * The phase is the session's whole lifecycle state: what becomes of the session is part of it once the connection
 * ended (`…-suspend`, `…-end`, `…-forget`, and `suspending` / `ending` while the kernel is told).
 *
 * ```
 * live:   accepted ─begin─▶ handshaking ─hold─▶ welcoming ─handshake-done─▶ open
 *            │                   │                  │                        │
 *            │                   ▼                  ▼                        │
 * ended:     │           abandoned-<fate> ─hold─▶ abandoned-held-<fate>      │
 *            │                   │                  │                        │
 *            │         handshake-done        handshake-done                  │
 *            ▼                   ▼                  ▼                        ▼
 *         settled ◀──────────────┘          suspending / ending ◀── suspend / end
 *            ▲                                      │
 *            └──────── settle-done, taken, kicked ──┘
 * ```
 *
 * A live phase goes down to its ended phase by the fate the connection ends with (`suspend`, `end`, `forget`; the
 * kernel's `taken` / `kicked` count as `forget`). A fate of `forget` needs nothing told: `abandoned-held-forget`
 * goes from `handshake-done`, and `open` at once, straight to `settled`; the other fates go through `suspending` /
 * `ending` while the kernel is told.
 *
 * - `accepted`: the transport is connected; no handshake has begun (a malformed resume request ends it here, and
 *   any end goes straight to `settled`).
 * - `handshaking`: registering or resuming; the kernel does not hold the session for this connection yet.
 * - `welcoming`: the kernel holds it; the handshake still writes the welcome (and a resume's replay).
 * - `open`: the handshake is over; requests run.
 * - `abandoned-<fate>` / `abandoned-held-<fate>`: the connection ended while the handshake was in flight, before /
 *   after the kernel held the session; the handshake finishes first, then the session is settled by its fate.
 * - `suspending` / `ending`: the connection ended; the kernel is being told to suspend / end the session.
 * - `settled`: done; the session no longer holds anything.
 *
 * The kernel's `taken` / `kicked` (the session lives on elsewhere, or is gone) turn any fate into `forget`: they end
 * a live session that way, make a held, abandoned one `abandoned-held-forget`, and make `suspending` / `ending`
 * `settled` (the kernel call still in flight is skipped if it has not started). The kernel holds the session for this
 * connection in `welcoming`, `open`, `abandoned-held-*`, `suspending` and `ending`: those get its `taken`/`kicked`.
 * A handshake either holds the session or ends the connection, so `handshaking` never sees `handshake-done`. Events
 * a phase does not list leave it unchanged (an end after the end, a hold after the handshake).
 *
 * A hand-written transition table rather than an xstate actor on purpose: there is one per connection, most
 * connections of a gateway are idle, and an actor costs about 4 KB of heap against a target of at most 8 KB RSS per
 * idle connection; this state is one string.
 */
export type SessionPhase =
  | 'accepted'
  | 'handshaking'
  | 'welcoming'
  | 'open'
  | `abandoned-${SessionFate}`
  | `abandoned-held-${SessionFate}`
  | 'suspending'
  | 'ending'
  | 'settled';

/** How a connection ends: by the gateway or the client (a fate), or by the kernel ending the session itself. */
export type SessionEnding = SessionFate | SessionEndReason;

/** What moves a session from one {@link SessionPhase} to the next (a fate: the connection ended with that fate). */
export type LifecycleEvent = 'begin' | 'hold' | 'handshake-done' | SessionFate | SessionEndReason | 'settle-done';

type Transitions = Readonly<Partial<Record<LifecycleEvent, SessionPhase>>>;

const KERNEL_ENDED: Transitions = { taken: 'abandoned-held-forget', kicked: 'abandoned-held-forget' };

const TRANSITIONS: Readonly<Record<SessionPhase, Transitions>> = {
  accepted: { begin: 'handshaking', suspend: 'settled', end: 'settled', forget: 'settled' },
  handshaking: { hold: 'welcoming', suspend: 'abandoned-suspend', end: 'abandoned-end', forget: 'abandoned-forget' },
  welcoming: {
    'handshake-done': 'open',
    suspend: 'abandoned-held-suspend',
    end: 'abandoned-held-end',
    forget: 'abandoned-held-forget',
    ...KERNEL_ENDED,
  },
  open: { suspend: 'suspending', end: 'ending', forget: 'settled', taken: 'settled', kicked: 'settled' },
  'abandoned-suspend': { hold: 'abandoned-held-suspend', 'handshake-done': 'settled' },
  'abandoned-end': { hold: 'abandoned-held-end', 'handshake-done': 'settled' },
  'abandoned-forget': { hold: 'abandoned-held-forget', 'handshake-done': 'settled' },
  'abandoned-held-suspend': { 'handshake-done': 'suspending', ...KERNEL_ENDED },
  'abandoned-held-end': { 'handshake-done': 'ending', ...KERNEL_ENDED },
  'abandoned-held-forget': { 'handshake-done': 'settled' },
  suspending: { 'settle-done': 'settled', taken: 'settled', kicked: 'settled' },
  ending: { 'settle-done': 'settled', taken: 'settled', kicked: 'settled' },
  settled: {},
};

/** The phase `event` moves `phase` to (`phase` itself when the event does not apply there). */
export function nextPhase(phase: SessionPhase, event: LifecycleEvent): SessionPhase {
  return TRANSITIONS[phase][event] ?? phase;
}

/** True while the connection is live: from `accepted` until it ended (cheap: read per delivered event). */
export function isLive(phase: SessionPhase): boolean {
  return phase === 'open' || phase === 'welcoming' || phase === 'handshaking' || phase === 'accepted';
}

/** True in the phases where the kernel holds the session for this connection (it must be settled). */
export function holdsSession(phase: SessionPhase): boolean {
  return phase === 'welcoming' || phase === 'open' || phase.startsWith('abandoned-held-') || phase === 'suspending' || phase === 'ending';
}

/** What the kernel is to be told on entering `phase` (`suspend` / `end`), or null when nothing. */
export function settlementOf(phase: SessionPhase): 'suspend' | 'end' | null {
  return phase === 'suspending' ? 'suspend' : phase === 'ending' ? 'end' : null;
}
