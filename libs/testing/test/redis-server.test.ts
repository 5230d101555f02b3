import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer, freePort, ping, waitUntil } from '../src/index.js';

let server: RedisServer | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

describe('RedisServer', () => {
  it('starts on a free port, dies with kill, comes back empty on the same port with restart, and stops', async () => {
    server = new RedisServer();
    await server.start();
    const port = server.port;
    expect(port).not.toBe(6379);
    expect(await ping(port)).toBe(true);
    await server.kill();
    expect(await ping(port)).toBe(false);
    await server.restart();
    expect(server.port).toBe(port);
    expect(await ping(port)).toBe(true);
    await server.stop();
    expect(await ping(port)).toBe(false);
  });
});

describe('freePort and waitUntil', () => {
  it('gives a port other than 6379, and waitUntil resolves with the value or rejects naming what it waited for', async () => {
    expect(await freePort()).not.toBe(6379);
    let calls = 0;
    expect(await waitUntil('the third call', () => (++calls === 3 ? 'done' : null), 1000, 1)).toBe('done');
    await expect(waitUntil('never', () => false, 30, 5)).rejects.toThrow('timed out after 30 ms waiting for never');
  });
});
