import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpRouter, IMMUTABLE_CACHE, REVALIDATE_CACHE, contentTypeOf, isHashedAssetName, staticFiles } from '../src/http/index.js';
import type { RouteModule } from '../src/http/index.js';
import { rawRequest } from './support/raw-http.js';

const NOT_FOUND = { error: { code: 'BAD_REQUEST', message: 'not found', temporary: false } };

/** A temp directory: `site/` is served; `secret.txt` next to it must never be. */
let base = '';
let site = '';
const servers: Server[] = [];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'rooms-static-'));
  site = join(base, 'site');
  await mkdir(join(site, 'assets'), { recursive: true });
  await mkdir(join(site, 'sub'));
  await mkdir(join(site, 'empty'));
  await writeFile(join(base, 'secret.txt'), 'secret');
  await writeFile(join(site, 'index.html'), '<!doctype html><title>root</title>');
  await writeFile(join(site, 'sub', 'index.html'), '<title>sub</title>');
  await writeFile(join(site, 'assets', 'index-B3x9kQ2a.js'), 'console.log(1);');
  await writeFile(join(site, 'assets', 'style.3f2a1b9c.css'), 'body{}');
  await writeFile(join(site, 'logo.SVG'), '<svg/>');
  await writeFile(join(site, 'data.bin'), Buffer.from([0, 1, 2, 3]));
  await writeFile(join(site, '.env'), 'TOKEN=x');
  await symlink(join(base, 'secret.txt'), join(site, 'outside.txt'));
  await symlink(base, join(site, 'up'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

afterEach(async () => {
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

/** Serves `module` mounted at `prefix` on a free port. */
async function serve(prefix: string, module: RouteModule): Promise<number> {
  const router = new HttpRouter(pino({ level: 'silent' }));
  router.mount(prefix, [module]);
  const server = createServer(router.handleRequest);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('staticFiles', () => {
  it('serves files with their content type and length; hashed names immutable, the rest revalidated', async () => {
    const port = await serve('/console', staticFiles({ root: site }));
    const cases: Array<[string, string, string, string]> = [
      ['/console/assets/index-B3x9kQ2a.js', 'text/javascript; charset=utf-8', IMMUTABLE_CACHE, 'console.log(1);'],
      ['/console/assets/style.3f2a1b9c.css', 'text/css; charset=utf-8', IMMUTABLE_CACHE, 'body{}'],
      ['/console/logo.SVG', 'image/svg+xml', REVALIDATE_CACHE, '<svg/>'],
      ['/console/data.bin', 'application/octet-stream', REVALIDATE_CACHE, '\u0000\u0001\u0002\u0003'],
      ['/console/index.html', 'text/html; charset=utf-8', REVALIDATE_CACHE, '<!doctype html><title>root</title>'],
      ['/console/assets/index-B3x9kQ2a.js?v=2', 'text/javascript; charset=utf-8', IMMUTABLE_CACHE, 'console.log(1);'],
    ];
    for (const [path, type, cache, body] of cases) {
      const res = await rawRequest(port, 'GET', path);
      expect({ path, status: res.status, type: res.headers['content-type'], cache: res.headers['cache-control'], body: res.body }).toEqual({
        path,
        status: 200,
        type,
        cache,
        body,
      });
      expect(res.headers['content-length']).toBe(String(Buffer.byteLength(body)));
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it("serves a directory's index.html, the mount point's included", async () => {
    const port = await serve('/console', staticFiles({ root: site }));
    for (const path of ['/console', '/console/', '/console/?x=1']) {
      const res = await rawRequest(port, 'GET', path);
      expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 200, body: '<!doctype html><title>root</title>' });
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe(REVALIDATE_CACHE);
    }
    for (const path of ['/console/sub', '/console/sub/']) expect((await rawRequest(port, 'GET', path)).body).toBe('<title>sub</title>');
    expect((await rawRequest(port, 'GET', '/console/empty/')).status).toBe(404);
  });

  it('answers HEAD with the headers of the GET and no body', async () => {
    const port = await serve('/console', staticFiles({ root: site }));
    const head = await rawRequest(port, 'HEAD', '/console/assets/index-B3x9kQ2a.js');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe('15');
    expect(head.headers['cache-control']).toBe(IMMUTABLE_CACHE);
  });

  it('never serves anything outside the directory, nor hidden files: the 404 JSON', async () => {
    const port = await serve('/console', staticFiles({ root: site }));
    for (const path of [
      '/console/../secret.txt',
      '/console/assets/../../secret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/%2E%2E/secret.txt',
      '/console/..%2fsecret.txt',
      '/console/assets%2f..%2f..%2fsecret.txt',
      '/console/.%2e/secret.txt',
      '/console/..%5csecret.txt',
      '/console/%5c..%5csecret.txt',
      '/console/./index.html',
      '/console//index.html',
      '/console/index.html%00.js',
      '/console/.env',
      '/console/%2eenv',
      '/console/outside.txt',
      '/console/up/secret.txt',
      '/console/missing.js',
      '/console/index.html/',
      '/console/assets',
    ]) {
      const res = await rawRequest(port, 'GET', path);
      expect({ path, status: res.status, body: res.body.startsWith('{') ? JSON.parse(res.body) : res.body }).toEqual({ path, status: 404, body: NOT_FOUND });
      expect(res.body).not.toContain('secret');
    }
  });

  it('serves at the root mount point too, and only for GET and HEAD', async () => {
    const port = await serve('', staticFiles({ root: site }));
    expect((await rawRequest(port, 'GET', '/')).body).toBe('<!doctype html><title>root</title>');
    expect((await rawRequest(port, 'GET', '/sub/')).body).toBe('<title>sub</title>');
    for (const [method, path] of [
      ['GET', '/../secret.txt'],
      ['GET', '/%2e%2e/secret.txt'],
      ['POST', '/index.html'],
      ['DELETE', '/'],
    ]) {
      const res = await rawRequest(port, method as string, path as string);
      expect({ method, path, status: res.status, body: JSON.parse(res.body) }).toEqual({ method, path, status: 404, body: NOT_FOUND });
    }
  });

  it('answers 404 for everything while its directory does not exist', async () => {
    const port = await serve('/console', staticFiles({ root: join(base, 'not-built-yet') }));
    for (const path of ['/console', '/console/index.html']) expect((await rawRequest(port, 'GET', path)).status).toBe(404);
  });

  it('takes the index file name and the hashed-name rule as options', async () => {
    const port = await serve('/console', staticFiles({ root: site, index: 'logo.SVG', hashed: (name) => name.endsWith('.bin') }));
    expect((await rawRequest(port, 'GET', '/console/')).body).toBe('<svg/>');
    expect((await rawRequest(port, 'GET', '/console/data.bin')).headers['cache-control']).toBe(IMMUTABLE_CACHE);
    expect((await rawRequest(port, 'GET', '/console/assets/index-B3x9kQ2a.js')).headers['cache-control']).toBe(REVALIDATE_CACHE);
  });
});

describe('isHashedAssetName and contentTypeOf', () => {
  it('takes 8-character hashes with a letter and a digit before the extension as hashed, nothing else', () => {
    for (const name of ['index-B3x9kQ2a.js', 'app.3f2a1b9c.css', 'chunk-a_B-12cd.mjs', 'font-0a1b2c3d.woff2']) expect(isHashedAssetName(name)).toBe(true);
    for (const name of ['index.html', 'app.js', 'settings.js', 'my-settings.js', 'app-v2-settings.js', 'bundle.20240101.js', 'index-DiwrgTda.js', 'x-abc1234.js', 'x-abc123456.js']) {
      expect({ name, hashed: isHashedAssetName(name) }).toEqual({ name, hashed: false });
    }
  });

  it('maps extensions in any case; unknown ones are application/octet-stream', () => {
    expect(contentTypeOf('a.HTML')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('a.woff2')).toBe('font/woff2');
    expect(contentTypeOf('a.map')).toBe('application/json; charset=utf-8');
    expect(contentTypeOf('Makefile')).toBe('application/octet-stream');
    expect(contentTypeOf('a.exe')).toBe('application/octet-stream');
  });
});
