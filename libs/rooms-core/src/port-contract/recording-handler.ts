import type { BackendHandler } from '../port/backend.js';
import type { ReplicaEvent } from '../port/group-log.js';
import type { GroupId, NodeId } from '../types.js';

/** Everything a `RecordingHandler` saw, in order. */
export type Recorded =
  | { kind: 'event'; event: ReplicaEvent; at: number }
  | { kind: 'nodeDown'; node: NodeId; at: number }
  | { kind: 'orphans'; groups: GroupId[]; at: number }
  | { kind: 'reconnected'; at: number }
  | { kind: 'availability'; available: boolean; at: number }
  | { kind: 'nodeMessage'; from: NodeId; body: unknown; at: number };

/**
 * RecordingHandler: a `BackendHandler` that records every call, with waits that resolve when a condition over the
 * records holds (and fail with a description of what was recorded after a timeout). Bus messages are answered by
 * `respond` (null by default).
 */
export class RecordingHandler implements BackendHandler {
  readonly records: Recorded[] = [];
  /** Answers `onNodeMessage`, after recording: its return value (or thrown error) is the reply. */
  respond: (from: NodeId, body: unknown) => unknown = () => null;
  /** Called on `onReconnected`, after recording (tests use it to act at that moment). */
  onReconnectedHook: (() => void) | null = null;
  /** Called on `onAvailability`, after recording (tests use it to act at that moment). */
  onAvailabilityHook: ((available: boolean) => void) | null = null;
  private waiters: Array<() => void> = [];

  constructor(readonly name: string) {}

  onEvent(event: ReplicaEvent): void {
    this.push({ kind: 'event', event, at: Date.now() });
  }

  onNodeDown(node: NodeId): void {
    this.push({ kind: 'nodeDown', node, at: Date.now() });
  }

  onOrphans(groups: GroupId[]): void {
    this.push({ kind: 'orphans', groups: [...groups], at: Date.now() });
  }

  onReconnected(): void {
    this.push({ kind: 'reconnected', at: Date.now() });
    this.onReconnectedHook?.();
  }

  onAvailability(available: boolean): void {
    this.push({ kind: 'availability', available, at: Date.now() });
    this.onAvailabilityHook?.(available);
  }

  onNodeMessage(from: NodeId, body: unknown): unknown {
    this.push({ kind: 'nodeMessage', from, body, at: Date.now() });
    return this.respond(from, body);
  }

  /** Every group reported by `onOrphans`, in order. */
  orphans(): GroupId[] {
    return this.records.flatMap((r) => (r.kind === 'orphans' ? r.groups : []));
  }

  /** The bodies of the bus messages received (from `from` only, when given), in arrival order. */
  messages(from?: NodeId): unknown[] {
    return this.records.flatMap((r) => (r.kind === 'nodeMessage' && (from === undefined || r.from === from) ? [r.body] : []));
  }

  /** The events received, optionally of one group only. */
  events(group?: GroupId): ReplicaEvent[] {
    const out: ReplicaEvent[] = [];
    for (const r of this.records) if (r.kind === 'event' && (group === undefined || r.event.group === group)) out.push(r.event);
    return out;
  }

  /** Versions of the events of a group, in arrival order. */
  versions(group: GroupId): number[] {
    return this.events(group).map((e) => e.v);
  }

  /** Resolves once `condition` holds (checked now and after every record); rejects after `timeoutMs`. */
  until(condition: (handler: RecordingHandler) => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (condition(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition(this)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}; recorded ${JSON.stringify(this.summary())}`));
      }, timeoutMs);
      this.waiters.push(check);
    });
  }

  /** Resolves once an event of `group` with version `v` (or later) was received. */
  untilVersion(group: GroupId, v: number, timeoutMs = 5000): Promise<void> {
    return this.until((h) => h.events(group).some((e) => e.v >= v), `${group} v${v}`, timeoutMs);
  }

  /** Resolves with the `message` event of `group` with `offset`, waiting for it. */
  async untilMessage(group: GroupId, offset: number, timeoutMs = 5000): Promise<Extract<ReplicaEvent, { type: 'message' }>> {
    const match = (e: ReplicaEvent): boolean => e.group === group && e.type === 'message' && e.offset === offset;
    return (await this.waitForEvent(match, `${group} message ${offset}`, timeoutMs)) as Extract<ReplicaEvent, { type: 'message' }>;
  }

  /** Resolves with the first event matching `match`, waiting for it. */
  async waitForEvent(match: (event: ReplicaEvent) => boolean, what: string, timeoutMs = 5000): Promise<ReplicaEvent> {
    await this.until((h) => h.events().some(match), what, timeoutMs);
    return this.events().find(match) as ReplicaEvent;
  }

  private push(record: Recorded): void {
    this.records.push(record);
    for (const waiter of [...this.waiters]) waiter();
  }

  private summary(): unknown[] {
    return this.records.slice(-30).map((r) => (r.kind === 'event' ? { t: r.event.type, g: r.event.group, v: r.event.v } : r));
  }
}
