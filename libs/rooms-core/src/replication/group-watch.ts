import type { GroupSnapshot, ReplicaEvent } from '../port/group-log.js';
import type { GroupId, MemberInfo, SessionId } from '../types.js';

/**
 * GroupWatch: what a backend knows of a group its node watches, as the sequencer (`WatchTable`) sees it: the version
 * of the last event handed to the kernel (`lastV`), the members and latest offset after it (to recover from a gap),
 * and events held back while a snapshot is being read.
 */
export class GroupWatch {
  /** Version of the last event delivered, or of the snapshot the kernel was given. */
  lastV = 0;
  /** Offset of the last message delivered or of the snapshot. */
  offset = 0;
  /** Members as of `lastV`. */
  members = new Map<SessionId, MemberInfo>();
  /** Reads in flight (watch, create, gap recovery): events are queued, not delivered, while > 0. */
  holds = 0;
  /** Events received while held, in arrival order. */
  queue: ReplicaEvent[] = [];
  /** A flush of `queue` is scheduled. */
  flushPending = false;
  /**
   * Set after the connection came back: events were lost while it was down, and the kernel re-reads the group
   * (`watch`) after re-asserting. Until then a gap is tolerated instead of recovered, so that no recovery works from
   * a store that is still being re-asserted.
   */
  stale = false;
  /** Recoveries started since the last event received in order (the recovery backs off as it grows). */
  recoveries = 0;
  /** A snapshot was handed out for this watch at least once. */
  established = false;
  /** Settles once the backend's subscription to the group's events is acknowledged. */
  subscribed: Promise<void> = Promise.resolve();

  constructor(
    readonly group: GroupId,
    /** Where the backend receives the group's events (a pub/sub channel, a subject). */
    readonly channel: string,
  ) {}

  /** Takes the state of a snapshot just handed to the kernel. */
  reset(snapshot: GroupSnapshot): void {
    this.lastV = snapshot.v;
    this.offset = snapshot.offset;
    this.members = new Map(snapshot.members.map((m) => [m.id, m]));
    this.stale = false;
    this.established = true;
  }

  /** Records a delivered event. */
  advance(event: ReplicaEvent): void {
    this.lastV = event.v;
    switch (event.type) {
      case 'message':
        this.offset = event.offset;
        break;
      case 'joined':
      case 'rejoined':
        this.members.set(event.member.id, event.member);
        break;
      case 'left':
        this.members.delete(event.member.id);
        break;
      case 'discarded':
        this.members.clear();
        break;
    }
  }
}
