import Ajv2020 from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_OPENAPI } from '../src/http/index.js';
import type { OpenApiDocument, OpenApiOperation, OpenApiPathItem } from '../src/http/index.js';
import { ADMIN_TOKEN, cleanup, startTestGateway } from './support/harness.js';
import type { TestGateway } from './support/harness.js';

afterEach(cleanup);

const OPERATION_METHODS = ['get', 'post', 'delete'] as const;
const UNROUTED_STATUS = { Unauthorized: 401, MethodNotAllowed: 405, NotFound: 404 } as const;

/** A JSON pointer token (RFC 6901). */
const pointerToken = (key: string): string => key.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Checks real answers against an OpenAPI document: the status must be documented for the operation (or, for a
 * request no operation covers, be one of `components.responses`), the body must match that response's schema, and
 * a 405's `Allow` must list the path's documented methods. Records which operation answered which status.
 */
class DocumentChecker {
  /** `GET /admin/groups/{id}` → the statuses seen. */
  readonly exercised = new Map<string, Set<number>>();
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });

  constructor(private readonly document: OpenApiDocument) {
    // The document's own keys are not JSON Schema keywords: declared, so strict mode accepts the document as a whole
    // and schemas inside it resolve their `#/components/schemas/...` references against it.
    this.ajv.addVocabulary(['openapi', 'info', 'security', 'paths', 'components']);
    this.ajv.addSchema(document as object, 'admin');
  }

  /** Every documented operation, as `METHOD /path/{param}`. */
  operations(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, item]) =>
      OPERATION_METHODS.filter((method) => item[method] !== undefined).map((method) => `${method.toUpperCase()} ${path}`),
    );
  }

  /** The documented statuses of `operation` (`METHOD /path/{param}`). */
  statusesOf(operation: string): number[] {
    const [method, path] = operation.split(' ') as [string, string];
    const found = this.document.paths[path]?.[method.toLowerCase() as (typeof OPERATION_METHODS)[number]];
    return Object.keys(found?.responses ?? {}).map(Number);
  }

  /** Compiles every schema of the document (strict: an unknown keyword or a bad reference fails). */
  compileAll(): void {
    for (const name of Object.keys(this.document.components.schemas)) this.validator(`#/components/schemas/${name}`);
    for (const operation of this.operations()) {
      for (const status of this.statusesOf(operation)) this.validator(this.responsePointer(operation, status));
    }
  }

  check(method: string, path: string, status: number, headers: Headers, text: string): void {
    const label = `${method} ${path} → ${status} ${text}`;
    expect(headers.get('content-type'), label).toBe('application/json; charset=utf-8');
    const template = this.templateOf(path.split('?', 1)[0] ?? path);
    const item = template === null ? undefined : this.document.paths[template];
    const operation = item?.[method.toLowerCase() as (typeof OPERATION_METHODS)[number]] as OpenApiOperation | undefined;
    let pointer: string;
    if (template !== null && operation !== undefined) {
      const key = `${method} ${template}`;
      expect(operation.responses[String(status)], `${label}: status documented for ${key}`).toBeDefined();
      pointer = this.responsePointer(key, status);
      const seen = this.exercised.get(key) ?? new Set<number>();
      seen.add(status);
      this.exercised.set(key, seen);
    } else {
      const name = status === 401 ? 'Unauthorized' : item !== undefined ? 'MethodNotAllowed' : 'NotFound';
      expect(status, `${label}: a request no operation covers answers ${name}`).toBe(UNROUTED_STATUS[name]);
      if (name === 'MethodNotAllowed') {
        const allow = (headers.get('allow') ?? '').split(', ').sort();
        expect(allow, label).toEqual(this.methodsOf(item as OpenApiPathItem).sort());
      }
      pointer = `#/components/responses/${name}/content/application~1json/schema`;
    }
    const validate = this.validator(pointer);
    const valid = validate(JSON.parse(text));
    expect(valid, `${label}: ${this.ajv.errorsText(validate.errors)}`).toBe(true);
  }

  private responsePointer(operation: string, status: number): string {
    const [method, path] = operation.split(' ') as [string, string];
    return `#/paths/${pointerToken(path)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
  }

  private validator(pointer: string): NonNullable<ReturnType<Ajv2020['getSchema']>> {
    const validate = this.ajv.getSchema(`admin${pointer}`);
    if (validate === undefined) throw new Error(`no schema at ${pointer}`);
    return validate;
  }

  private methodsOf(item: OpenApiPathItem): string[] {
    return OPERATION_METHODS.filter((method) => item[method] !== undefined).map((method) => method.toUpperCase());
  }

  /** The documented path a concrete (still percent-encoded) path matches, or null. */
  private templateOf(path: string): string | null {
    for (const template of Object.keys(this.document.paths)) {
      const pattern = template
        .split(/\{[^}]+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*');
      if (new RegExp(`^${pattern}$`).test(path)) return template;
    }
    return null;
  }
}

/** Calls the admin API of `gw` and checks the answer against the served document. */
function caller(gw: TestGateway, checker: DocumentChecker) {
  return async (
    method: string,
    path: string,
    options: { token?: string | null; body?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${gw.http}${path}`, { method, headers, body: options.body });
    const text = await res.text();
    checker.check(method, path, res.status, res.headers, text);
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  };
}

describe('GET /admin/openapi.json', () => {
  it('serves the document without a token while the admin API is on; 404 while it is off', async () => {
    const off = await startTestGateway();
    expect((await fetch(`${off.http}/admin/openapi.json`)).status).toBe(404);
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN });
    const variants: Array<Record<string, string>> = [{}, { authorization: `Bearer ${ADMIN_TOKEN}` }, { authorization: 'Bearer wrong' }];
    for (const headers of variants) {
      const res = await fetch(`${gw.http}/admin/openapi.json`, { headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await res.json()).toEqual(JSON.parse(JSON.stringify(ADMIN_OPENAPI)));
    }
  });

  it('is an OpenAPI 3.1 document whose every schema compiles (strict) and every operation is distinct', () => {
    const checker = new DocumentChecker(ADMIN_OPENAPI);
    expect(ADMIN_OPENAPI.openapi).toBe('3.1.0');
    expect(() => checker.compileAll()).not.toThrow();
    const ids = checker.operations().map((operation) => {
      const [method, path] = operation.split(' ') as [string, string];
      return ADMIN_OPENAPI.paths[path]?.[method.toLowerCase() as 'get']?.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(checker.operations().sort()).toEqual([
      'DELETE /admin/groups/{id}',
      'DELETE /admin/sessions/{id}',
      'GET /admin/groups',
      'GET /admin/groups/{id}',
      'GET /admin/nodes',
      'GET /admin/openapi.json',
      'GET /admin/sessions/{id}',
      'POST /admin/groups/{id}/announce',
    ]);
  });
});

describe('the admin API answers as its OpenAPI document says', () => {
  it('every operation, in its success and error cases', async () => {
    const gw = await startTestGateway({ ROOMS_ADMIN_TOKEN: ADMIN_TOKEN, ROOMS_STATIC_GROUPS: 'lobby', ROOMS_MAX_PAYLOAD: '256' });
    const served = (await (await fetch(`${gw.http}/admin/openapi.json`)).json()) as OpenApiDocument;
    const checker = new DocumentChecker(served);
    const call = caller(gw, checker);
    const [a, b] = await Promise.all([gw.connect(), gw.connect()]);
    await a.ok('create', { group: 'g/1', meta: { k: 'v' }, data: { hello: 1 } });
    await b.ok('join', { group: 'g/1' });
    await a.ok('create', { group: 'empty', allowEmpty: true, join: false });

    expect((await call('GET', '/admin/openapi.json', { token: null })).status).toBe(200);
    expect((await call('POST', '/admin/openapi.json')).status).toBe(405);

    expect((await call('GET', '/admin/groups')).body.groups).toHaveLength(3);
    expect((await call('GET', '/admin/groups', { token: null })).status).toBe(401);
    expect((await call('GET', '/admin/groups', { token: 'wrong' })).status).toBe(401);
    expect((await call('PUT', '/admin/groups')).status).toBe(405);
    expect((await call('PUT', '/admin/groups', { token: null })).status).toBe(401);

    expect((await call('GET', '/admin/groups/g%2F1')).body.members).toHaveLength(2);
    expect((await call('GET', '/admin/groups/empty')).body).toMatchObject({ state: 'created', size: 0, members: [] });
    expect((await call('GET', '/admin/groups/lobby')).body).toMatchObject({ static: true });
    expect((await call('GET', '/admin/groups/none')).status).toBe(404);
    expect((await call('GET', '/admin/groups/has%20space')).status).toBe(400);
    expect((await call('GET', '/admin/groups/')).status).toBe(400);
    expect((await call('GET', '/admin/groups/%zz')).status).toBe(400);
    expect((await call('GET', '/admin/groups/g', { token: null })).status).toBe(401);
    expect((await call('PATCH', '/admin/groups/g%2F1')).status).toBe(405);

    expect((await call('POST', '/admin/groups/g%2F1/announce', { body: '{"notice":"soon"}' })).body).toEqual({ recipients: 2, offset: 1 });
    expect(await b.event('message')).toMatchObject({ from: null, data: { notice: 'soon' } });
    expect((await call('POST', '/admin/groups/g%2F1/announce', { body: '{oops' })).status).toBe(400);
    expect((await call('POST', '/admin/groups/g%2F1/announce', { body: '' })).status).toBe(400);
    expect((await call('POST', '/admin/groups/none/announce', { body: '1' })).status).toBe(404);
    expect((await call('POST', '/admin/groups/bad%7Bid/announce', { body: '1' })).status).toBe(400);
    expect((await call('POST', '/admin/groups/g%2F1/announce', { body: JSON.stringify('x'.repeat(300)) })).status).toBe(413);
    expect((await call('POST', '/admin/groups/g%2F1/announce', { token: null, body: '1' })).status).toBe(401);
    expect((await call('GET', '/admin/groups/g%2F1/announce')).status).toBe(405);

    expect((await call('DELETE', '/admin/groups/lobby')).status).toBe(403);
    expect((await call('DELETE', '/admin/groups/empty')).body).toEqual({ group: 'empty' });
    expect((await call('DELETE', '/admin/groups/empty')).status).toBe(404);
    expect((await call('DELETE', '/admin/groups/%20')).status).toBe(400);
    expect((await call('DELETE', '/admin/groups/empty', { token: null })).status).toBe(401);

    expect((await call('GET', `/admin/sessions/${b.session}`)).body).toEqual({
      session: b.session,
      user: null,
      node: gw.gateway.node.nodeId,
      connected: true,
      transport: 'websocket',
      groups: ['g/1'],
    });
    expect((await call('GET', '/admin/sessions/nobody')).body).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
    expect((await call('GET', '/admin/sessions/%C3')).status).toBe(400);
    expect((await call('GET', '/admin/sessions/x', { token: null })).status).toBe(401);
    expect((await call('GET', '/admin/nodes')).body).toEqual({ nodes: [{ id: gw.gateway.node.nodeId, self: true, connections: 2, groups: 2 }] });
    expect((await call('GET', '/admin/nodes', { token: null })).status).toBe(401);
    expect((await call('POST', '/admin/nodes')).status).toBe(405);

    expect((await call('DELETE', `/admin/sessions/${b.session}`)).body).toEqual({ session: b.session });
    expect((await b.closedWithin()).code).toBe(4003);
    expect((await call('DELETE', `/admin/sessions/${b.session}`)).body).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
    expect((await call('GET', `/admin/sessions/${b.session}`)).status).toBe(404);
    expect((await call('DELETE', '/admin/sessions/%C3')).status).toBe(400);
    expect((await call('DELETE', '/admin/sessions/x', { token: null })).status).toBe(401);
    expect((await call('POST', '/admin/sessions/x')).status).toBe(405);

    for (const path of ['/admin', '/admin/', '/admin/nothing', '/admin/groups/g/announce/x', '/admin/sessions']) {
      expect((await call('GET', path)).status).toBe(404);
      expect((await call('GET', path, { token: null })).status).toBe(401);
    }

    // 503: the node under the gateway closed while the server still answers (what a store outage looks like).
    await gw.gateway.node.close();
    for (const [method, path, body] of [
      ['GET', '/admin/groups', undefined],
      ['GET', '/admin/groups/g%2F1', undefined],
      ['DELETE', '/admin/groups/g%2F1', undefined],
      ['POST', '/admin/groups/g%2F1/announce', '1'],
      ['DELETE', `/admin/sessions/${a.session}`, undefined],
      ['GET', `/admin/sessions/${a.session}`, undefined],
      ['GET', '/admin/nodes', undefined],
    ] as const) {
      const res = await call(method, path, { body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 503 });
    }

    // Every documented operation was exercised, with every documented status but 500 (a server failure).
    expect([...checker.exercised.keys()].sort()).toEqual(checker.operations().sort());
    for (const operation of checker.operations()) {
      const expected = checker.statusesOf(operation).filter((status) => status !== 500);
      expect({ operation, statuses: [...(checker.exercised.get(operation) ?? [])].sort() }).toEqual({ operation, statuses: expected.sort() });
    }
  });

  it('rejects a body that does not match: the checker itself can fail', () => {
    const checker = new DocumentChecker(ADMIN_OPENAPI);
    const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
    expect(() => checker.check('GET', '/admin/groups', 200, headers, '{"groups":[{"id":"g"}]}')).toThrow();
    expect(() => checker.check('GET', '/admin/groups', 418, headers, '{}')).toThrow();
    expect(() => checker.check('DELETE', '/admin/groups/g', 404, headers, '{"error":{"code":"BAD_REQUEST","message":"m","temporary":false}}')).toThrow();
    expect(() => checker.check('PUT', '/admin/groups', 405, new Headers({ 'content-type': 'application/json; charset=utf-8', allow: 'GET, POST' }), '{"error":{"code":"BAD_REQUEST","message":"m","temporary":false}}')).toThrow();
    expect(() => checker.check('GET', '/admin/groups', 200, headers, '{"groups":[],"extra":1}')).toThrow();
    checker.check('GET', '/admin/groups', 200, headers, '{"groups":[{"id":"g","state":"active","size":1,"static":false}]}');
  });
});
