import type WebSocket from 'ws';
import type { MarkerHandler } from '../marker.js';
import { PendingReplies, REQUEST_TIMEOUT_MS } from './connection.js';
import type { BenchConnection } from './connection.js';
import { openBenchSocket, parseFrameItems } from './ws-frames.js';

/** A connection to our gateway, speaking docs/protocol.md v1 (`ws://host:port/v1`). */
export class RoomsConnection implements BenchConnection {
  onMarker: MarkerHandler = () => {};
  onProblem: (what: string) => void = () => {};
  private readonly ws: WebSocket;
  private readonly replies = new PendingReplies();
  private readonly welcome: Promise<void>;
  private closing = false;

  constructor(baseUrl: string) {
    this.ws = openBenchSocket(`${baseUrl}/v1`, '"ref"', this);
    this.welcome = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no welcome within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      this.resolveWelcome = () => {
        clearTimeout(timer);
        resolve();
      };
      this.ws.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      this.ws.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`closed (${code}) before welcome`));
      });
    });
    this.welcome.catch(() => {});
    this.ws.on('error', () => {});
    this.ws.on('close', (code, reason) => {
      this.replies.failAll(`connection closed (${code})`);
      if (!this.closing) this.onProblem(`closed ${code} ${reason.toString()}`.trim());
    });
  }

  open(): Promise<void> {
    return this.welcome;
  }

  create(group: string): Promise<void> {
    return this.request('create', group);
  }

  join(group: string): Promise<void> {
    return this.request('join', group);
  }

  leave(group: string): Promise<void> {
    return this.request('leave', group);
  }

  broadcast(group: string, data: string): void {
    // The payload is ASCII without quotes or backslashes (see marker.ts), so it needs no escaping.
    this.ws.send(`{"op":"broadcast","group":${JSON.stringify(group)},"data":"${data}"}`);
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.close(1000);
  }

  /** Frames that carry replies, errors or events other than our deliveries. */
  onControl(frame: Buffer): void {
    const items = parseFrameItems(frame);
    if (!items) return this.onProblem('unparseable frame');
    for (const item of items) {
      if (item.ev === 'welcome') this.resolveWelcome();
      else if (typeof item.ref === 'number') {
        this.replies.settle(item.ref, item.ok === true ? undefined : describeError(item.error));
      } else if (item.ok === false || item.ev === 'error') this.onProblem(describeError(item.error));
    }
  }

  private resolveWelcome: () => void = () => {};

  private request(op: string, group: string): Promise<void> {
    const { ref, done } = this.replies.add(`${op} ${group}`);
    this.ws.send(JSON.stringify({ op, ref, group }));
    return done;
  }
}

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return `${String(code)}: ${String(message)}`;
  }
  return 'error reply without details';
}
