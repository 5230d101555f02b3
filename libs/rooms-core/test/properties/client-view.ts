import type { GroupMessage } from '../../src/index.js';
import type { KernelModel } from './kernel-model.js';
import type { SeenDelivery } from './two-node-cluster.js';

/**
 * ClientView: what each session's client has seen of each of its groups, as a client of docs/protocol.md would
 * keep it: the last message offset per group. Live messages must continue it strictly by one (no gap, no repeat); a
 * replay may repeat offsets the client has (they are dropped, and so are live messages of the resumed groups that the
 * replay already had) but must not skip one. Every breach is a finding in `problems` (the run fails on the first).
 */
export class ClientView {
  private last = new Map<string, Map<string, number>>();
  /** `session group` → offsets of the client's own broadcasts answered before the messages before them arrived. */
  private ahead = new Map<string, Set<number>>();
  /** `session group` pairs replayed during the current step: their live messages may repeat the replay's offsets. */
  private replayed = new Set<string>();
  problems: string[] = [];

  /** The last offset `session` has of `group`, undefined when it follows no such group. */
  lastOffset(session: string, group: string): number | undefined {
    return this.last.get(session)?.get(group);
  }

  /** A copy of the view, for `restore` when a check against one order of two concurrent steps failed. */
  snapshot(): ClientView {
    const copy = new ClientView();
    for (const [session, groups] of this.last) copy.last.set(session, new Map(groups));
    copy.replayed = new Set(this.replayed);
    for (const [key, offsets] of this.ahead) copy.ahead.set(key, new Set(offsets));
    copy.problems = [...this.problems];
    return copy;
  }

  /** Makes this view what `snapshot` was. */
  restore(snapshot: ClientView): void {
    const copy = snapshot.snapshot();
    this.last = copy.last;
    this.replayed = copy.replayed;
    this.ahead = copy.ahead;
    this.problems = copy.problems;
  }

  /** The client starts following `group` at `offset` (a join's or a create's answer). */
  follow(session: string, group: string, offset: number): void {
    let groups = this.last.get(session);
    if (!groups) this.last.set(session, (groups = new Map()));
    groups.set(group, offset);
  }

  /**
   * The client's own broadcast without `self` was answered with `offset`: the client has seen that offset (the reply
   * says so). Two steps at once may answer it before the messages just before it arrive: it is then held as ahead,
   * and the client's offsets continue through it once they arrive.
   */
  sent(session: string, group: string, offset: number): void {
    const last = this.lastOffset(session, group);
    if (last === undefined || offset <= last) {
      this.problems.push(`broadcast of ${session} to ${group} got offset ${offset}, but the client has ${last}`);
      return;
    }
    if (offset > last + 1) {
      const key = `${session} ${group}`;
      this.ahead.set(key, (this.ahead.get(key) ?? new Set()).add(offset));
      return;
    }
    this.advance(session, group, offset);
  }

  /** The client now has everything up to `offset`, and the own offsets held ahead that continue it. */
  private advance(session: string, group: string, offset: number): void {
    const key = `${session} ${group}`;
    const held = this.ahead.get(key);
    let last = offset;
    while (held?.delete(last + 1)) last++;
    if (held?.size === 0) this.ahead.delete(key);
    this.follow(session, group, last);
  }

  /** Keeps only the groups `keep` says the session still follows; forgets sessions `keep` no longer knows. */
  prune(keep: (session: string, group: string) => boolean | undefined): void {
    for (const [session, groups] of this.last) {
      for (const group of groups.keys()) {
        if (keep(session, group)) continue;
        groups.delete(group);
        this.ahead.delete(`${session} ${group}`);
      }
      if (groups.size === 0) this.last.delete(session);
    }
  }

  /**
   * A resume's replay of `group` for `session`: it must be the group's messages `since+1`, `since+2`, … in order; the
   * client drops what it has and must then have no gap.
   */
  replay(session: string, group: string, since: number, messages: GroupMessage[]): void {
    messages.forEach((message, index) => {
      if (message.group !== group || message.offset !== since + 1 + index) {
        this.problems.push(`replay of ${group} to ${session} after ${since}: message ${index} has offset ${message.offset} of ${message.group}`);
      }
    });
    const had = this.lastOffset(session, group);
    if (had !== undefined && had < since) this.problems.push(`replay of ${group} to ${session} starts after ${since} but the client has only ${had}`);
    let last = had ?? since;
    for (const message of messages) last = Math.max(last, message.offset);
    this.follow(session, group, last);
    this.replayed.add(`${session} ${group}`);
  }

  /**
   * Checks the deliveries of one step against the model's `states` during it (before, in between, after): each reached
   * a session its node held and that was a member of the event's group in one of them; each message continues the
   * client's offsets of its group by one when the session's connection was up on that node.
   */
  observe(deliveries: SeenDelivery[], states: readonly KernelModel[]): void {
    for (const { node, event, to } of deliveries) {
      for (const session of to) {
        const what = `${event.ev} of ${event.group} delivered by ${node} to ${session}`;
        if (!states.some((model) => model.holds(node, session))) {
          this.problems.push(`${what}, which that node does not hold`);
          continue;
        }
        if (!states.some((model) => model.groups.get(event.group)?.members.get(session) === node)) this.problems.push(`${what}, not a member there`);
        if (event.ev !== 'message' || !states.some((model) => model.connectedOn(node, session))) continue;
        const last = this.lastOffset(session, event.group);
        if (last === undefined) {
          this.problems.push(`${what} (offset ${event.offset}): the client follows no such group`);
        } else if (event.offset <= last && this.replayed.has(`${session} ${event.group}`)) {
          continue;
        } else if (event.offset !== last + 1) {
          this.problems.push(`${what}: offset ${event.offset} after ${last} (a gap or a repeat)`);
        }
        this.advance(session, event.group, event.offset);
      }
    }
    this.replayed.clear();
  }
}
