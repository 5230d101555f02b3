import { RoomsClient, RoomsClientError } from '@rooms-kit/client';
import type { BroadcastResult, DisconnectInfo, ReconnectInfo } from '@rooms-kit/client';
import { ConnectionLog } from './connection-log.js';
import type { ChaosPayload, MessageLedger } from './message-ledger.js';
import { routedWebSocket } from './node-router.js';
import type { NodeRouter } from './node-router.js';
import type { PhaseTally } from './phase-tally.js';

/**
 * A stretch of a client's offsets in its group during which one session of it was a member: the messages after
 * `base`, up to `end` inclusive once that session was lost (the last offset it had seen then), or all of them while it
 * lasts (`end` null). A client "in the group the whole time" for a message is one with a membership covering it.
 */
export interface Membership {
  base: number;
  end: number | null;
}

/** What every client of a run shares. */
export interface ClientContext {
  router: NodeRouter;
  ledger: MessageLedger;
  tally: PhaseTally;
}

/** How long a client waits between attempts to get back into its group, or to connect by hand. */
const RETRY_MS = 250;
/** The SDK's reconnect backoff in the run: quick first attempts, at most 2 s apart. */
const RECONNECT = { minDelayMs: 100, maxDelayMs: 2000 };

/**
 * ChaosClient: one SDK client (`@rooms-kit/client` over `ws`) of the run, in one group, behaving as an application
 * should: it lets the SDK reconnect and resume, and when a resume is refused (a new session) it joins its group
 * again with `since` its last offset; it never retries a broadcast. It records, for the audit: every connection's
 * wire (a {@link ConnectionLog}), its memberships, each drop and how it ended (resume time and outcome), every message
 * the SDK delivered (in the ledger) and the SDK's errors (in the tally).
 */
export class ChaosClient {
  readonly sdk: RoomsClient;
  /** Every connection this client opened, in order. */
  readonly connections: ConnectionLog[] = [];
  /** Its memberships, in order; the last one is current while {@link inGroup}. */
  readonly memberships: Membership[] = [];
  #inGroup = false;
  #closed = false;
  /** The drop being recovered from: when, in which phase, and the last offset seen then. */
  #drop: { at: number; phase: number; last: number | undefined } | null = null;
  #rejoining = false;

  constructor(
    /** Its number in the run (the `c` of its payloads). */
    readonly index: number,
    /** Its group's id and index. */
    readonly group: string,
    readonly groupIndex: number,
    /** The node it connects to first and comes back to while that one is in rotation. */
    readonly home: number,
    private readonly context: ClientContext,
  ) {
    const { router, ledger, tally } = context;
    const watcher = {
      opened: (node: number) => {
        const log = new ConnectionLog(node, () => tally.index, (g, offset, data) => {
          ledger.wireMessage(g, offset, data);
          // Before the SDK handles the frame: at or below its last offset, it is a repeat the SDK will drop.
          const last = this.sdk.lastOffset(g);
          if (last !== undefined && offset <= last) tally.at().replayed++;
        }, (id) => router.learn(id, node));
        this.connections.push(log);
        return (text: string) => log.frame(text);
      },
    };
    this.sdk = new RoomsClient({ url: router.wsUrl(home), WebSocket: routedWebSocket(router, home, watcher), reconnect: RECONNECT });
    this.sdk.on('message', (message) => ledger.delivered(index, message.data, message));
    this.sdk.on('disconnect', (info) => this.#disconnected(info));
    const member = (kind: string, event: { group: string; member: { id: string; node: string } }): void => {
      tally.count('memberEvents', kind);
      tally.note(kind, `client ${index} (${this.where}) heard ${event.group} member ${event.member.id} on ${router.describeId(event.member.node)}`);
    };
    this.sdk.on('joined', (event) => member('joined', event));
    this.sdk.on('rejoined', (event) => member('rejoined', event));
    this.sdk.on('left', (event) => member(`left ${event.reason}`, event));
    this.sdk.on('reconnect', (info) => this.#reconnected(info));
    this.sdk.on('error', (error) => {
      if (error.code === 'GAP') {
        tally.at().sdkGaps += (error.gap?.lost ?? []).reduce((sum, range) => sum + range.to - range.from + 1, 0);
        tally.note('GAP', `client ${index} (${this.where}): ${error.message}`);
      } else tally.error(error.code);
    });
  }

  /** Whether it is connected and in its group, by its own view. */
  get settled(): boolean {
    return !this.#closed && this.#inGroup && this.sdk.state === 'open';
  }

  /** Whether it is in its group by its own view (also while reconnecting to resume). */
  get inGroup(): boolean {
    return this.#inGroup;
  }

  /** Its session id (its member id), or null. */
  get session(): string | null {
    return this.sdk.session;
  }

  /** Connects and creates its group (`create`) or joins it. Rejects when either fails. */
  async start(create: boolean): Promise<void> {
    await this.sdk.connect();
    if (create) {
      await this.sdk.create({ group: this.group });
      this.#joined(0);
    } else {
      this.#joined((await this.sdk.join(this.group)).offset);
    }
  }

  /** "on node N" (where its latest connection went), or "never connected": for the notes. */
  get where(): string {
    const latest = this.connections.at(-1);
    return latest ? `on node ${latest.node + 1}` : 'never connected';
  }

  /** Broadcasts `payload` to its group (without `self`). */
  broadcast(payload: ChaosPayload): Promise<BroadcastResult> {
    return this.sdk.broadcast(this.group, payload);
  }

  /** Closes the SDK client (code 1000: the session ends). Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    return this.sdk.close();
  }

  #joined(base: number): void {
    this.memberships.push({ base, end: null });
    this.#inGroup = true;
  }

  #disconnected(info: DisconnectInfo): void {
    if (this.#closed) return;
    this.context.tally.count('closes', String(info.code));
    this.#drop ??= { at: Date.now(), phase: this.context.tally.index, last: this.sdk.lastOffset(this.group) };
    if (!info.willReconnect) void this.#connectByHand();
  }

  #reconnected(info: ReconnectInfo): void {
    const drop = this.#drop;
    this.#drop = null;
    if (drop) this.context.tally.at(drop.phase).resumes.push({ client: this.index, ms: Date.now() - drop.at, resumed: info.resumed });
    if (info.resumed || !this.#inGroup) return;
    // A new session is in no group: the old one's membership ended where it had got to.
    const current = this.memberships.at(-1);
    if (current) current.end = drop?.last ?? current.base;
    this.#inGroup = false;
    void this.#rejoin(drop?.last);
  }

  /** After the SDK gave up reconnecting (a final close code): connects again until open, or closed. */
  async #connectByHand(): Promise<void> {
    while (!this.#closed && this.sdk.state === 'idle') {
      try {
        await this.sdk.connect();
      } catch {
        await sleep(RETRY_MS);
      }
    }
  }

  /**
   * Joins the group again (a new session), with `since` the last offset the lost session had seen, until it is in,
   * retrying every failure (it may be temporary, or a defect the run reports as a missing member). A join answered
   * for a session that has since been replaced does not count.
   */
  async #rejoin(since: number | undefined): Promise<void> {
    if (this.#rejoining) return;
    this.#rejoining = true;
    try {
      while (!this.#closed && !this.#inGroup) {
        const session = this.sdk.session;
        if (this.sdk.state === 'open') {
          const sentAt = Date.now();
          try {
            const reply = await this.sdk.join(this.group, since === undefined ? {} : { since });
            if (this.sdk.session === session && !this.#inGroup) {
              this.#joined(since !== undefined && reply.recovered === true ? since : reply.offset);
              return;
            }
          } catch (error) {
            this.context.tally.error(error instanceof RoomsClientError ? error.code : 'CLIENT_FAILURE', sentAt);
          }
        }
        await sleep(RETRY_MS);
      }
    } finally {
      this.#rejoining = false;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
