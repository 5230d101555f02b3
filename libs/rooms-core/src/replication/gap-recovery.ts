import type { GroupSnapshot, ReplicaEvent } from '../port/group-log.js';
import type { GroupMessage, MemberInfo, NodeId, SessionId } from '../types.js';
import type { GroupWatch } from './group-watch.js';

/** A message of a group's history with its `self` flag (deliver to the sender too), as a recovery replays it. */
export type StoredMessage = Omit<GroupMessage, 'self'> & { self: boolean };

/**
 * How long the `attempt`-th recovery in a row of one group (without an event received in order between them) waits
 * before reading the store: the first at once, then 50 ms doubling up to 2 s.
 */
export function recoveryDelayMs(attempt: number): number {
  return attempt <= 1 ? 0 : Math.min(2000, 50 * 2 ** (attempt - 2));
}

/** An event before its version is assigned. */
type WithoutV<E> = E extends unknown ? Omit<E, 'v'> : never;
type Pending = WithoutV<ReplicaEvent>;

/**
 * The events that bring a watcher from what it delivered (`watch`: version, members, offset, and the real events
 * queued since the gap) to the store's `snapshot` after a lost pub/sub message, emitting only what the store proves:
 * - the real events received after the gap (up to the snapshot) keep their versions;
 * - the missing versions (neither delivered nor received) are filled with the missed messages, read from the
 *   history stream (`messages`: those after `watch.offset`, up to the snapshot's offset) in offset order, then with
 *   the membership changes the received events do not explain (snapshot minus what they imply): `left` (reason
 *   `disconnect` for this node's members, `node-down` for others, as the kernel's own resync does), `rejoined`
 *   (member now on another node), `joined`. When only messages were lost this is exact;
 * - when the group no longer exists: one `discarded` (the reason of a received `discarded`, else `empty`).
 * Versions stay strictly increasing and the last event carries the snapshot's version, so the kernel's waiters for
 * versions inside the gap are released. Membership changes folded by the snapshot (a join then a leave) are lost.
 */
export function recoveryEvents(
  watch: Pick<GroupWatch, 'group' | 'lastV' | 'offset' | 'members' | 'queue'>,
  snapshot: GroupSnapshot | null,
  messages: readonly StoredMessage[],
  self: NodeId,
): ReplicaEvent[] {
  const { group } = watch;
  if (!snapshot) {
    const seen = watch.queue.find((e): e is Extract<ReplicaEvent, { type: 'discarded' }> => e.type === 'discarded');
    return [{ type: 'discarded', group, v: Math.max(watch.lastV + 1, seen?.v ?? 0), reason: seen?.reason ?? 'empty' }];
  }
  if (snapshot.v <= watch.lastV) return [];
  const real = new Map<number, ReplicaEvent>();
  for (const e of watch.queue) if (e.v > watch.lastV && e.v <= snapshot.v && e.type !== 'discarded') real.set(e.v, e);
  const received = [...real.values()].sort((x, y) => x.v - y.v);

  const missing: Pending[] = [];
  const receivedOffsets = new Set(received.map((e) => (e.type === 'message' ? e.offset : 0)));
  for (const m of messages) {
    if (m.offset <= watch.offset || m.offset > snapshot.offset || receivedOffsets.has(m.offset)) continue;
    missing.push({ type: 'message', group, from: m.from, data: m.data, offset: m.offset, self: m.self });
  }
  missing.push(...membershipChanges(group, implied(watch.members, received), snapshot.members, self));

  const free: number[] = [];
  for (let v = watch.lastV + 1; v <= snapshot.v; v++) if (!real.has(v)) free.push(v);
  let events: ReplicaEvent[];
  if (missing.length <= free.length) {
    events = [...missing.map((e, i) => ({ ...e, v: free[i] as number }) as ReplicaEvent), ...received].sort((x, y) => x.v - y.v);
  } else {
    // More changes than free versions cannot happen with a consistent store; number them after what was delivered.
    events = [...missing, ...received.map(({ v: _v, ...e }) => e as Pending)].map((e, i) => ({ ...e, v: watch.lastV + 1 + i }) as ReplicaEvent);
  }
  const last = events.at(-1);
  if (last && last.v < snapshot.v) last.v = snapshot.v;
  return events;
}

/** The members after applying the received membership events to what was delivered. */
function implied(members: ReadonlyMap<SessionId, MemberInfo>, received: readonly ReplicaEvent[]): Map<SessionId, MemberInfo> {
  const out = new Map(members);
  for (const e of received) {
    if (e.type === 'joined' || e.type === 'rejoined') out.set(e.member.id, e.member);
    else if (e.type === 'left') out.delete(e.member.id);
  }
  return out;
}

/** `left`, `rejoined` and `joined` events that turn `from` into `to`, with running sizes. */
function membershipChanges(group: string, from: ReadonlyMap<SessionId, MemberInfo>, to: readonly MemberInfo[], self: NodeId): Pending[] {
  const fresh = new Map(to.map((m) => [m.id, m]));
  const out: Pending[] = [];
  let size = from.size;
  for (const member of from.values()) {
    if (!fresh.has(member.id)) out.push({ type: 'left', group, member, reason: member.node === self ? 'disconnect' : 'node-down', size: --size });
  }
  for (const member of fresh.values()) {
    const known = from.get(member.id);
    if (known && known.node !== member.node) out.push({ type: 'rejoined', group, member, previousNode: known.node, size });
  }
  for (const member of fresh.values()) {
    if (!from.has(member.id)) out.push({ type: 'joined', group, member, size: ++size });
  }
  return out;
}
