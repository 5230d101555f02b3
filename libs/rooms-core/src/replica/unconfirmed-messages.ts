import type { Logger } from '../logger.js';
import type { RestoredMessage } from '../port/group-log.js';
import type { LocalGroup } from './local-group.js';

/** Most messages a node keeps unconfirmed, over all its groups (see `UnconfirmedMessages`); the oldest go first. */
export const UNCONFIRMED_MAX_COUNT = 1000;
/** Most bytes (the messages' `data` as JSON, UTF-16 code units) a node keeps unconfirmed, over all its groups. */
export const UNCONFIRMED_MAX_BYTES = 1024 * 1024;

/** A message kept, with the order it was kept in (the oldest is dropped first). */
export interface KeptMessage extends RestoredMessage {
  keptAt: number;
}

/** One group's unconfirmed messages, in offset order, and the node-wide bound they count against. */
export class GroupUnconfirmed {
  readonly messages: KeptMessage[] = [];

  constructor(readonly all: UnconfirmedMessages) {}

  /** Drops the messages at or below `offset`: this node's replica applied them (so the store published them). */
  confirm(offset: number): void {
    let dropped = 0;
    while (dropped < this.messages.length && (this.messages[dropped] as KeptMessage).offset <= offset) dropped++;
    if (dropped > 0) this.all.removed(this.messages.splice(0, dropped));
  }
}

/**
 * UnconfirmedMessages: the messages the store acknowledged to this node's senders whose `message` event this node's
 * replica has not applied yet, kept per group on the replica (`LocalGroup.unconfirmed`). Acknowledged means delivered
 * to every member: if the store loses everything before it published one (a Redis killed between its reply and its
 * pub/sub), the node's re-assert writes it back into the history and publishes it again (`GroupLog.reassert`), so
 * every replica and member gets it in offset order. Bounded per node (`UNCONFIRMED_MAX_COUNT`,
 * `UNCONFIRMED_MAX_BYTES`): past a bound the oldest is dropped, counted (`dropped`) and logged. A message is
 * confirmed (dropped) as soon as the replica applied its offset, so in a healthy cluster it holds a few at most.
 */
export class UnconfirmedMessages {
  /** Messages dropped past the bounds since the node started (they could not be restored after a data loss). */
  dropped = 0;
  private count = 0;
  private bytes = 0;
  private sequence = 0;
  /** The groups holding messages, in the order they first did (the oldest message is usually in the first). */
  private readonly groups = new Set<GroupUnconfirmed>();

  constructor(
    private readonly logger: Logger,
    private readonly maxCount = UNCONFIRMED_MAX_COUNT,
    private readonly maxBytes = UNCONFIRMED_MAX_BYTES,
  ) {}

  /** Messages kept now, over all groups. */
  get size(): number {
    return this.count;
  }

  /** Keeps `message`, just acknowledged, unless the replica applied its offset already. */
  keep(local: LocalGroup, message: RestoredMessage): void {
    if (message.offset <= local.offset) return;
    const kept = (local.unconfirmed ??= new GroupUnconfirmed(this));
    const { messages } = kept;
    // Acknowledgements of concurrent publishes may come back out of order.
    let at = messages.length;
    while (at > 0 && (messages[at - 1] as KeptMessage).offset > message.offset) at--;
    if (messages[at - 1]?.offset === message.offset) return;
    messages.splice(at, 0, { ...message, keptAt: this.sequence++ });
    this.groups.add(kept);
    this.count++;
    this.bytes += message.json.length;
    while (this.count > this.maxCount || this.bytes > this.maxBytes) this.dropOldest();
  }

  /** The messages of a replica that it has not applied yet (to restore after a data loss), in offset order. */
  pending(local: LocalGroup): RestoredMessage[] {
    const kept = local.unconfirmed;
    if (!kept) return [];
    kept.confirm(local.offset);
    return [...kept.messages];
  }

  /** Forgets a replica's messages (the group is gone). */
  forget(local: LocalGroup): void {
    const kept = local.unconfirmed;
    if (!kept) return;
    this.removed(kept.messages.splice(0));
    local.unconfirmed = null;
  }

  /** Accounts for messages a group dropped. */
  removed(messages: readonly RestoredMessage[]): void {
    for (const message of messages) {
      this.count--;
      this.bytes -= message.json.length;
    }
    for (const kept of this.groups) if (kept.messages.length === 0) this.groups.delete(kept);
  }

  private dropOldest(): void {
    let oldest: GroupUnconfirmed | null = null;
    for (const kept of this.groups) {
      const first = kept.messages[0];
      if (first && (!oldest || first.keptAt < (oldest.messages[0] as KeptMessage).keptAt)) oldest = kept;
    }
    if (!oldest) return;
    const [message] = oldest.messages.splice(0, 1);
    if (!message) return;
    this.removed([message]);
    this.dropped++;
    this.logger.warn({ offset: message.offset, dropped: this.dropped }, 'too many acknowledged messages not seen back from the store: the oldest is no longer kept for a restore');
  }
}
