import { afterEach, describe, expect, it } from 'vitest';
import { RecordingHandler } from '@rooms-kit/core';
import type { GroupSpec } from '@rooms-kit/core';
import { freePort, RedisServer } from '@rooms-kit/testing';
import { RedisBackend } from '../src/index.js';
import { nodeId, RecordingLogger } from './support/nodes.js';

/** A backend whose Redis is not there at start (`waitForStore`), or stalls with its connections open (SIGSTOP). */

const WAIT_MS = 60_000;
const backends: RedisBackend[] = [];
const servers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(backends.splice(0).map((backend) => backend.close()));
  for (const server of servers.splice(0)) {
    server.resume();
    await server.stop();
  }
});

function spec(id: string): GroupSpec {
  return { id, allowEmpty: true, ttlMs: null, maxMembers: null, intervalMs: 0, meta: {}, static: false };
}

function availability(handler: RecordingHandler): boolean[] {
  return handler.records.flatMap((record) => (record.kind === 'availability' ? [record.available] : []));
}

async function laterServer(): Promise<RedisServer> {
  const server = new RedisServer();
  servers.push(server);
  server.port = await freePort();
  return server;
}

describe('RedisBackend with waitForStore', () => {
  it('waits for a Redis that is not there yet, reporting unavailable once and available once, with one warn each', async () => {
    const server = await laterServer();
    const logger = new RecordingLogger();
    const backend = new RedisBackend({ url: server.url, nodeId: nodeId('waits'), waitForStore: true, logger });
    backends.push(backend);
    const handler = new RecordingHandler('waits');
    let started = false;
    const starting = backend.start(handler).then(() => (started = true));
    await handler.until((h) => availability(h).length === 1, 'the wait to be reported', WAIT_MS);
    expect(availability(handler)).toEqual([false]);
    expect(started).toBe(false);
    await server.start();
    await starting;
    expect(availability(handler)).toEqual([false, true]);
    await backend.groups.createGroup(spec('g'), null);
    expect(await backend.groups.snapshot('g')).not.toBeNull();
    expect(logger.lines.filter((line) => line.level === 'warn')).toHaveLength(2);
  }, 2 * WAIT_MS);

  it('close() while waiting ends the wait: start() rejects UNAVAILABLE and nothing is left running', async () => {
    const server = await laterServer();
    const backend = new RedisBackend({ url: server.url, nodeId: nodeId('gives-up'), waitForStore: true });
    const handler = new RecordingHandler('gives-up');
    const starting = backend.start(handler);
    await handler.until((h) => availability(h).length === 1, 'the wait to be reported', WAIT_MS);
    await backend.close();
    await expect(starting).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  }, 2 * WAIT_MS);
});

describe('RedisBackend on a Redis that stalls (SIGSTOP)', () => {
  it('reports unavailable while PING goes unanswered, and available again (with a reconnect) once it answers', async () => {
    const server = new RedisServer();
    servers.push(server);
    await server.start();
    const backend = new RedisBackend({ url: server.url, nodeId: nodeId('stalls'), stallProbe: { intervalMs: 200, timeoutMs: 600 } });
    backends.push(backend);
    const handler = new RecordingHandler('stalls');
    await backend.start(handler);
    server.pause();
    await handler.until((h) => availability(h).includes(false), 'the stall to be reported', WAIT_MS);
    await expect(backend.groups.createGroup(spec('during'), null)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    server.resume();
    await handler.until((h) => availability(h).at(-1) === true && h.records.some((r) => r.kind === 'reconnected'), 'the store back', WAIT_MS);
    await backend.groups.createGroup(spec('after'), null);
    expect(await backend.groups.snapshot('after')).not.toBeNull();
  }, 2 * WAIT_MS);
});
