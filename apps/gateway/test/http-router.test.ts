import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { HttpRouter, createGatewayRouter, sendJson, sendMethodNotAllowed, sendNotFound, sendText } from '../src/http/index.js';
import type { AdminDeps, FallbackHandler, RouteMiss } from '../src/http/index.js';
import { rawRequest } from './support/raw-http.js';
import { upgradeStatus } from '@rooms-kit/testing';

const NOT_FOUND = { error: { code: 'BAD_REQUEST', message: 'not found', temporary: false } };
const MALFORMED_TARGET = { error: { code: 'BAD_REQUEST', message: 'malformed request target', temporary: false } };

const servers: Server[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

/** Serves `router` on a free port, requests and upgrades. */
async function listen(router: HttpRouter): Promise<number> {
  const server = createServer(router.handleRequest);
  server.on('upgrade', router.handleUpgrade);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** What a fallback saw, and a fallback that records it and answers 400 / 405 / 404 like the admin API. */
function recordingFallback(): { misses: RouteMiss[]; fallback: FallbackHandler } {
  const misses: RouteMiss[] = [];
  return {
    misses,
    fallback: (_req, res, miss) => {
      misses.push(miss);
      if (miss.malformed) return sendJson(res, 400, { malformed: true });
      const allowed = miss.allowedMethods();
      if (allowed.length > 0) return sendMethodNotAllowed(res, allowed);
      sendNotFound(res, 'no such item endpoint');
    },
  };
}

/** A router with a root module (`/a` GET, `/b` GET+HEAD) and an `/m` mount point with parameters. */
function sampleRouter(fallback: FallbackHandler, logger = pino({ level: 'silent' })): HttpRouter {
  const router = new HttpRouter(logger);
  router.mount('', [
    (mount) => {
      mount.route('GET', '/a', (_req, res) => sendText(res, 200, 'a'));
      mount.route(['GET', 'HEAD'], '/b', (_req, res) => sendJson(res, 200, { b: true }));
    },
  ]);
  router.mount(
    '/m',
    [
      (mount) => {
        mount.route('GET', '/items', (_req, res) => sendJson(res, 200, { items: [] }));
        mount.route('GET', '/items/:id', (_req, res, params) => sendJson(res, 200, { id: params.id }));
        mount.route('DELETE', '/items/:id', (_req, res, params) => sendJson(res, 200, { deleted: params.id }));
        mount.route('POST', '/items/:id/do', (_req, res) => sendJson(res, 200, { done: true }));
      },
    ],
    { fallback },
  );
  return router;
}

describe('HttpRouter: requests', () => {
  it('routes by method and exact path; anything else at the root is the 404 JSON', async () => {
    const port = await listen(sampleRouter(recordingFallback().fallback));
    expect(await rawRequest(port, 'GET', '/a')).toMatchObject({ status: 200, body: 'a' });
    expect(await rawRequest(port, 'GET', '/a?x=1&y')).toMatchObject({ status: 200, body: 'a' });
    for (const [method, path] of [
      ['GET', '/nothing'],
      ['GET', '/'],
      ['GET', '/a/'],
      ['GET', '/A'],
      ['GET', '//a'],
      ['POST', '/a'],
      ['DELETE', '/b'],
      ['GET', '/mx'],
      ['GET', '*'],
    ] as const) {
      const res = await rawRequest(port, method, path);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(res.body)).toEqual(NOT_FOUND);
    }
  });

  it('answers HEAD where a module routes it (headers of the GET, no body); elsewhere HEAD is the 404', async () => {
    const port = await listen(sampleRouter(recordingFallback().fallback));
    const get = await rawRequest(port, 'GET', '/b');
    const head = await rawRequest(port, 'HEAD', '/b');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect((await rawRequest(port, 'HEAD', '/a')).status).toBe(404);
  });

  it("gives a mount point's unmatched requests to its fallback, with the methods the path has, in registration order", async () => {
    const { misses, fallback } = recordingFallback();
    const port = await listen(sampleRouter(fallback));
    const put = await rawRequest(port, 'PUT', '/m/items/1');
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, DELETE');
    expect((await rawRequest(port, 'GET', '/m/items/1/do')).headers.allow).toBe('POST');
    expect((await rawRequest(port, 'HEAD', '/m/items')).headers.allow).toBe('GET');
    for (const path of ['/m', '/m/', '/m/x', '/m/items/1/do/', '/m/items/a/b']) {
      const res = await rawRequest(port, 'GET', path);
      expect({ path, status: res.status, body: JSON.parse(res.body) }).toEqual({
        path,
        status: 404,
        body: { error: { code: 'BAD_REQUEST', message: 'no such item endpoint', temporary: false } },
      });
    }
    expect(misses.every((miss) => !miss.malformed)).toBe(true);
    expect(misses).toHaveLength(8);
  });

  it('hands handlers their parameters percent-decoded, empty segments included', async () => {
    const port = await listen(sampleRouter(recordingFallback().fallback));
    const idOf = async (encoded: string): Promise<unknown> => JSON.parse((await rawRequest(port, 'GET', `/m/items/${encoded}`)).body).id;
    expect(await idOf('a%2Fb')).toBe('a/b');
    expect(await idOf('a%2fb')).toBe('a/b');
    expect(await idOf('100%25')).toBe('100%');
    expect(await idOf('%252F')).toBe('%2F');
    expect(await idOf('%C3%A9t%C3%A9')).toBe('été');
    expect(await idOf('a+b:c@d')).toBe('a+b:c@d');
    expect(await idOf('')).toBe('');
    expect(await idOf('x'.repeat(4000))).toBe('x'.repeat(4000));
  });

  it('sends a malformed percent-encoding to the fallback of the mount point its raw path is under, else the 400', async () => {
    const { misses, fallback } = recordingFallback();
    const port = await listen(sampleRouter(fallback));
    for (const path of ['/m/items/%zz', '/m/%', '/m/items/%C3', '/m/nothing/%G1', '/m/items/a%2']) {
      const res = await rawRequest(port, 'GET', path);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
    }
    expect(misses.map((miss) => [miss.malformed, miss.allowedMethods()])).toEqual(Array(5).fill([true, []]));
    for (const path of ['/%zz', '/a%zz', '/m%zz/items']) {
      const res = await rawRequest(port, 'GET', path);
      expect({ path, status: res.status, body: JSON.parse(res.body) }).toEqual({ path, status: 400, body: MALFORMED_TARGET });
    }
    // Only the path counts: a malformed query string is the handler's business.
    expect((await rawRequest(port, 'GET', '/a?q=%zz')).status).toBe(200);
  });

  it('answers a handler that throws or rejects with 500 INTERNAL, logged once each', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
    const router = new HttpRouter(logger);
    router.mount('', [
      (mount) => {
        mount.route('GET', '/throws', () => {
          throw new Error('boom');
        });
        mount.route('GET', '/rejects', async () => {
          throw new Error('later boom');
        });
      },
    ]);
    const port = await listen(router);
    for (const path of ['/throws', '/rejects']) {
      const res = await rawRequest(port, 'GET', path);
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body)).toEqual({ error: { code: 'INTERNAL', message: 'Internal error', temporary: false } });
    }
    expect(lines.map((line) => JSON.parse(line) as { msg: string; url: string }).map(({ msg, url }) => [msg, url])).toEqual([
      ['http request failed', '/throws'],
      ['http request failed', '/rejects'],
    ]);
  });

  it('refuses a route declared twice, upgrades declared twice, a prefix mounted twice and malformed prefixes', () => {
    const router = new HttpRouter(pino({ level: 'silent' }));
    const twice = (): void =>
      router.mount('', [
        (mount) => {
          mount.route('GET', '/x', () => undefined);
          mount.route(['HEAD', 'GET'], '/x', () => undefined);
        },
      ]);
    expect(twice).toThrow('GET /x is routed twice');
    router.mount('/v', [(mount) => mount.upgrade('', () => undefined)]);
    expect(() => router.mount('/v', [])).toThrow('/v is mounted twice');
    expect(() => router.mount('/w', [(mount) => [1, 2].forEach(() => mount.upgrade('/u', () => undefined))])).toThrow('routed twice');
    for (const prefix of ['/', 'x', '/a/b', '/:p', '/*']) expect(() => router.mount(prefix, [])).toThrow('a mount prefix');
  });
});

describe('HttpRouter: upgrades', () => {
  /** A router whose `/v1` mount point hands upgrades to a real WebSocket server, next to the sample routes. */
  async function upgradeRouter(): Promise<number> {
    const router = sampleRouter(recordingFallback().fallback);
    const wss = new WebSocketServer({ noServer: true });
    router.mount('/v1', [
      (mount) =>
        mount.upgrade('', (req, socket, head) => {
          socket.on('error', () => undefined);
          wss.handleUpgrade(req, socket, head, (ws) => ws.send(`hello ${req.url}`));
        }),
      (mount) =>
        mount.upgrade('/broken', () => {
          throw new Error('broken upgrade');
        }),
    ]);
    return listen(router);
  }

  it('hands upgrades of the upgrade route to its handler, whatever the query', async () => {
    const port = await upgradeRouter();
    for (const path of ['/v1', '/v1?format=json&token=x']) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
      sockets.push(ws);
      const greeting = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.once('error', reject);
      });
      expect(greeting).toBe(`hello ${path}`);
    }
  });

  it('refuses upgrades anywhere else with 404 (400 for a malformed target), and a plain request on the upgrade path is the 404 JSON', async () => {
    const port = await upgradeRouter();
    for (const path of ['/v2', '/', '/v1/', '/v1/x', '/a', '/m/items', '/m/items/1']) {
      expect({ path, status: await upgradeStatus(`ws://127.0.0.1:${port}${path}`) }).toEqual({ path, status: 404 });
    }
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/%zz`)).toBe(400);
    const plain = await rawRequest(port, 'GET', '/v1');
    expect({ status: plain.status, body: JSON.parse(plain.body) }).toEqual({ status: 404, body: NOT_FOUND });
    expect((await rawRequest(port, 'POST', '/v1')).status).toBe(404);
  });

  it('answers 500 when an upgrade handler throws', async () => {
    const port = await upgradeRouter();
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/v1/broken`)).toBe(500);
  });
});

describe('createGatewayRouter', () => {
  const silent = pino({ level: 'silent' });
  const metrics = { text: async (): Promise<string> => 'rooms_connections 0\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' };
  const admin: AdminDeps = {
    token: 'admin-token-of-at-least-32-bytes',
    maxPayload: 1024,
    node: () => {
      throw new Error('no kernel in this test: only answers that need none are asked for');
    },
    onPublish: () => undefined,
    logger: silent,
  };

  /** The gateway's router with `admin`, its WebSocket upgrades answered by a real WebSocket server. */
  async function gatewayRouter(options: { admin: AdminDeps | null; ready: boolean }): Promise<number> {
    const wss = new WebSocketServer({ noServer: true });
    const router = createGatewayRouter({
      ready: () => options.ready,
      metrics,
      admin: options.admin,
      logger: silent,
      websocket: (req, socket, head) => {
        socket.on('error', () => undefined);
        wss.handleUpgrade(req, socket, head, (ws) => ws.send('welcome'));
      },
    });
    return listen(router);
  }

  it('serves the probes and metrics for GET and HEAD at the root; other methods there are 404', async () => {
    const port = await gatewayRouter({ admin: null, ready: true });
    expect(await rawRequest(port, 'GET', '/healthz')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    expect(await rawRequest(port, 'GET', '/readyz')).toMatchObject({ status: 200, body: '{"status":"ready"}' });
    const scrape = await rawRequest(port, 'GET', '/metrics');
    expect(scrape).toMatchObject({ status: 200, body: 'rooms_connections 0\n' });
    expect(scrape.headers['content-type']).toBe(metrics.contentType);
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const head = await rawRequest(port, 'HEAD', path);
      expect({ path, status: head.status, body: head.body }).toEqual({ path, status: 200, body: '' });
      expect((await rawRequest(port, 'POST', path)).status).toBe(404);
    }
    const notReady = await gatewayRouter({ admin: null, ready: false });
    expect(await rawRequest(notReady, 'GET', '/readyz')).toMatchObject({ status: 503, body: '{"status":"unavailable"}' });
  });

  it('has no /admin while the admin API is off', async () => {
    const port = await gatewayRouter({ admin: null, ready: true });
    for (const path of ['/admin', '/admin/groups', '/admin/openapi.json']) {
      const res = await rawRequest(port, 'GET', path, { headers: { authorization: 'Bearer admin-token-of-at-least-32-bytes' } });
      expect({ path, status: res.status, body: JSON.parse(res.body) }).toEqual({ path, status: 404, body: NOT_FOUND });
    }
  });

  it('asks for the token before anything else under /admin; HEAD is not GET there (405, as in v1)', async () => {
    const port = await gatewayRouter({ admin, ready: true });
    for (const [method, path] of [
      ['GET', '/admin/groups'],
      ['HEAD', '/admin/groups'],
      ['GET', '/admin/nothing'],
      ['GET', '/admin/groups/%zz'],
    ]) {
      expect({ method, path, status: (await rawRequest(port, method as string, path as string)).status }).toEqual({ method, path, status: 401 });
    }
    const head = await rawRequest(port, 'HEAD', '/admin/groups', { headers: { authorization: 'Bearer admin-token-of-at-least-32-bytes' } });
    expect({ status: head.status, allow: head.headers.allow }).toEqual({ status: 405, allow: 'GET' });
    const malformed = await rawRequest(port, 'GET', '/admin/groups/%zz', { headers: { authorization: 'Bearer admin-token-of-at-least-32-bytes' } });
    expect({ status: malformed.status, body: JSON.parse(malformed.body) }).toEqual({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'malformed percent-encoding in the path', temporary: false } },
    });
    expect((await rawRequest(port, 'GET', '/admin/openapi.json')).status).toBe(200);
  });

  it('routes WebSocket upgrades on /v1 to the transport handler and refuses them elsewhere with 404', async () => {
    const port = await gatewayRouter({ admin, ready: true });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1?format=json`);
    sockets.push(ws);
    expect(await new Promise<string>((resolve, reject) => {
      ws.once('message', (data: Buffer) => resolve(data.toString()));
      ws.once('error', reject);
    })).toBe('welcome');
    for (const path of ['/v2', '/', '/healthz', '/admin/groups', '/v1/sse']) {
      expect({ path, status: await upgradeStatus(`ws://127.0.0.1:${port}${path}`) }).toEqual({ path, status: 404 });
    }
    expect((await rawRequest(port, 'GET', '/v1')).status).toBe(404);
  });
});
