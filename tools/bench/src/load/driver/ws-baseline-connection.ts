import type WebSocket from 'ws';
import type { MarkerHandler } from '../marker.js';
import { PendingReplies } from './connection.js';
import type { BenchConnection } from './connection.js';
import { openBenchSocket, parseFrameItems } from './ws-frames.js';

/**
 * A connection to the ws baseline server (servers/ws-baseline.ts): `{"t":"join"|"leave","g","r"}` requests answered
 * by `{"t":"ok","r"}` or `{"t":"err","r","e"}`, `{"t":"b","g","d"}` broadcasts delivered as `{"t":"m","g","d"}`.
 */
export class WsBaselineConnection implements BenchConnection {
  onMarker: MarkerHandler = () => {};
  onProblem: (what: string) => void = () => {};
  private readonly ws: WebSocket;
  private readonly replies = new PendingReplies();
  private readonly opened: Promise<void>;
  private closing = false;

  constructor(baseUrl: string) {
    this.ws = openBenchSocket(`${baseUrl}/`, '"r"', this);
    this.opened = new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('close', (code) => reject(new Error(`closed (${code}) before open`)));
    });
    this.opened.catch(() => {});
    this.ws.on('error', () => {});
    this.ws.on('close', (code) => {
      this.replies.failAll(`connection closed (${code})`);
      if (!this.closing) this.onProblem(`closed ${code}`);
    });
  }

  open(): Promise<void> {
    return this.opened;
  }

  create(group: string): Promise<void> {
    return this.join(group);
  }

  join(group: string): Promise<void> {
    return this.request('join', group);
  }

  leave(group: string): Promise<void> {
    return this.request('leave', group);
  }

  broadcast(group: string, data: string): void {
    this.ws.send(`{"t":"b","g":${JSON.stringify(group)},"d":"${data}"}`);
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.ws.close(1000);
  }

  onControl(frame: Buffer): void {
    const items = parseFrameItems(frame);
    if (!items) return this.onProblem('unparseable frame');
    for (const item of items) {
      if (typeof item.r === 'number') this.replies.settle(item.r, item.t === 'ok' ? undefined : String(item.e));
      else if (item.t === 'err') this.onProblem(String(item.e));
    }
  }

  private request(t: string, group: string): Promise<void> {
    const { ref, done } = this.replies.add(`${t} ${group}`);
    this.ws.send(JSON.stringify({ t, g: group, r: ref }));
    return done;
  }
}
