import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import type { NodeManager } from '@rooms-kit/core';
import { Counter, Gauge, Registry } from 'prom-client';
import type { GatewayStats } from './gateway-stats.js';

/** Where the metrics read their values at scrape time. */
export interface MetricSources {
  stats: GatewayStats;
  /** Open client connections. */
  connections(): number;
  /** Bytes waiting for clients (queued, held, parked and in socket buffers), over every connection. */
  pendingOutboundBytes(): number;
  /** The node, once started. */
  node(): NodeManager | null;
}

/**
 * The gateway's Prometheus metrics, in a Registry of its own (several gateways may share a process in tests).
 * Everything is computed at scrape time from plain counters (`GatewayStats`) and the node's `stats()`, so the hot
 * paths never touch prom-client. Names (every metric it registers):
 * `rooms_connections`, `rooms_connections_opened_total`, `rooms_sessions`, `rooms_groups{state}`,
 * `rooms_requests_total{op}`, `rooms_errors_total{code}`, `rooms_closes_total{code}`, `rooms_frames_in_total`,
 * `rooms_messages_in_total`, `rooms_deliveries_total`, `rooms_outbound_bytes_total`, `rooms_outbound_pending_bytes`,
 * `rooms_event_loop_lag_seconds{quantile}`, `rooms_process_resident_memory_bytes`.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

  constructor(sources: MetricSources) {
    const { stats } = sources;
    const registers = [this.registry];
    this.loop.enable();
    const loop = this.loop;

    new Gauge({
      name: 'rooms_connections',
      help: 'Open client WebSocket connections.',
      registers,
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: 'rooms_outbound_pending_bytes',
      help: 'Bytes waiting to reach clients: queued, held for an interval, parked behind a replay, in socket buffers.',
      registers,
      collect() {
        this.set(sources.pendingOutboundBytes());
      },
    });
    new Gauge({
      name: 'rooms_sessions',
      help: 'Sessions held by this node (connected or suspended).',
      registers,
      collect() {
        this.set(sources.node()?.stats().sessions ?? 0);
      },
    });
    new Gauge({
      name: 'rooms_groups',
      help: 'Groups this node watches, by lifecycle state.',
      labelNames: ['state'],
      registers,
      collect() {
        const groups = sources.node()?.stats().groups ?? { created: 0, active: 0, 'empty-grace': 0 };
        for (const [state, count] of Object.entries(groups)) this.set({ state }, count);
      },
    });
    labelledCounter('rooms_requests_total', 'Requests executed, by op.', 'op', stats.requests, registers);
    labelledCounter('rooms_errors_total', 'Error replies and connection errors, by code.', 'code', stats.errors, registers);
    labelledCounter('rooms_closes_total', 'Connections closed by the server, by close code.', 'code', stats.closes, registers);
    plainCounter('rooms_frames_in_total', 'Frames received from clients.', () => stats.framesIn, registers);
    plainCounter('rooms_messages_in_total', 'Messages published through this node (broadcast and announce).', () => stats.messagesIn, registers);
    plainCounter('rooms_deliveries_total', 'Events handed to client connections (one per recipient).', () => stats.deliveries, registers);
    plainCounter('rooms_outbound_bytes_total', 'Bytes written to client sockets.', () => stats.outboundBytes, registers);
    plainCounter('rooms_connections_opened_total', 'Client connections accepted.', () => stats.connectionsOpened, registers);
    new Gauge({
      name: 'rooms_event_loop_lag_seconds',
      help: 'Event-loop delay since the previous scrape, by quantile.',
      labelNames: ['quantile'],
      registers,
      collect() {
        for (const quantile of [0.5, 0.99]) this.set({ quantile: String(quantile) }, lagSeconds(loop.percentile(quantile * 100)));
        this.set({ quantile: '1' }, lagSeconds(loop.max));
        loop.reset();
      },
    });
    new Gauge({
      name: 'rooms_process_resident_memory_bytes',
      help: 'Resident memory of the process.',
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
  }

  /** Content type of {@link text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The metrics in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Stops the event-loop monitor. Idempotent. */
  close(): void {
    this.loop.disable();
  }
}

/** The sampling timer's period; each sample includes it, so it is taken off to get the lag. */
const LOOP_RESOLUTION_MS = 20;

function lagSeconds(sampleNs: number): number {
  return Math.max(0, sampleNs - LOOP_RESOLUTION_MS * 1e6) / 1e9;
}

/** A counter that follows a plain monotonic number: each scrape adds what it grew by. */
function plainCounter(name: string, help: string, read: () => number, registers: Registry[]): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}

/** As {@link plainCounter}, one series per key of `map`. */
function labelledCounter<K>(name: string, help: string, label: string, map: Map<K, number>, registers: Registry[]): void {
  const seen = new Map<K, number>();
  new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      for (const [key, now] of map) {
        const before = seen.get(key) ?? 0;
        if (now > before) this.inc({ [label]: String(key) }, now - before);
        seen.set(key, now);
      }
    },
  });
}
