import { DEFAULT_LIMITS, defaultCheckMs } from '@rooms-kit/core';
import type { Logger, NodeId, Now } from '@rooms-kit/core';

/** Options of a `RedisBackend`. Only `url` and `nodeId` are required. */
export interface RedisBackendOptions {
  /** `redis://host:port` (one Redis) or `redis+cluster://h1:p1,h2:p2` (Redis Cluster, version 7 or later). */
  url: string;
  /** This node's id: unique per process start, never reused (no newline). */
  nodeId: NodeId;
  /** A node that did not refresh its liveness key for this long is dead. Default 3000. */
  nodeTtlMs?: number;
  /** How often this node checks whether the others are alive. Default `nodeTtlMs / 10` (at least 50). */
  livenessCheckMs?: number;
  /** Messages kept per group for recovery (approximately: the stream is trimmed with `MAXLEN ~`). Default 1000. */
  historySize?: number;
  /**
   * Bytes of messages kept per group, exactly: the UTF-8 size of each message's `data` as JSON, summed; the publish
   * script drops the oldest messages past it (a message larger than it is not kept). Default 1 MiB
   * (`DEFAULT_LIMITS.historyMaxBytes`).
   */
  historyMaxBytes?: number;
  /** Longest a call waits for Redis before rejecting `UNAVAILABLE`. Default 1000. */
  commandTimeoutMs?: number;
  logger?: Logger;
  /**
   * What `start()` does when Redis cannot be reached: `false` (default) rejects `UNAVAILABLE`; `true` reports
   * `onAvailability(false)` to the handler once, keeps trying (a new connection attempt after a pause growing from
   * 100 ms to at most `START_RETRY_MAX_MS`, 1 s) and resolves once Redis answered and the node started there,
   * after `onAvailability(true)`. `close()` ends the wait (`start()` then rejects `UNAVAILABLE`).
   */
  waitForStore?: boolean;
  /**
   * How often the backend checks that Redis still answers (one PING per interval on the command connection), and
   * how long a PING may stay unanswered before Redis counts as unreachable (`onAvailability(false)`, calls rejected
   * `UNAVAILABLE`) until one is answered again. Catches a Redis that stalls with its connections open (a SIGSTOP,
   * a long fork), which no connection error reports. Default `{ intervalMs: 1000, timeoutMs: 2000 }`.
   */
  stallProbe?: { intervalMs?: number; timeoutMs?: number };
  /** Prefix of every key and channel (no braces). Default `rooms:`. */
  keyPrefix?: string;
  /** Wall clock for session expiry and liveness (epoch ms). Default `Date.now`. */
  now?: Now;
}

/** The options with every default applied. */
export interface ResolvedOptions {
  url: string;
  nodeId: NodeId;
  nodeTtlMs: number;
  livenessCheckMs: number;
  historySize: number;
  historyMaxBytes: number;
  commandTimeoutMs: number;
  keyPrefix: string;
  now: Now;
  waitForStore: boolean;
  stallProbe: { intervalMs: number; timeoutMs: number };
}

/** Applies the defaults and validates; throws a `TypeError` naming a bad option. */
export function resolveOptions(options: RedisBackendOptions): ResolvedOptions {
  if (typeof options.nodeId !== 'string' || options.nodeId === '' || /[\n{}]/.test(options.nodeId)) {
    throw new TypeError('nodeId must be a non-empty string without newlines or braces');
  }
  const keyPrefix = options.keyPrefix ?? 'rooms:';
  // Group keys are hash-tagged `{g:<id>}` and the scripts find the id after the first `{g:`: the prefix has no braces.
  if (typeof keyPrefix !== 'string' || /[\n{}]/.test(keyPrefix)) throw new TypeError('keyPrefix must be a string without newlines or braces');
  const nodeTtlMs = positive('nodeTtlMs', options.nodeTtlMs ?? 3000);
  return {
    url: options.url,
    nodeId: options.nodeId,
    nodeTtlMs,
    livenessCheckMs: positive('livenessCheckMs', options.livenessCheckMs ?? defaultCheckMs(nodeTtlMs)),
    historySize: positive('historySize', options.historySize ?? 1000),
    historyMaxBytes: positive('historyMaxBytes', options.historyMaxBytes ?? DEFAULT_LIMITS.historyMaxBytes),
    commandTimeoutMs: positive('commandTimeoutMs', options.commandTimeoutMs ?? 1000),
    keyPrefix,
    now: options.now ?? Date.now,
    waitForStore: options.waitForStore ?? false,
    stallProbe: {
      intervalMs: positive('stallProbe.intervalMs', options.stallProbe?.intervalMs ?? 1000),
      timeoutMs: positive('stallProbe.timeoutMs', options.stallProbe?.timeoutMs ?? 2000),
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number`);
  return Math.floor(value);
}
