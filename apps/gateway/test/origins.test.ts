import { afterEach, describe, expect, it } from 'vitest';
import { upgradeStatus } from '@rooms-kit/testing';
import { ConfigError, loadConfig } from '../src/config.js';
import { OriginPolicy, normalizeOrigin, parseAllowedOrigins } from '../src/http/origin-policy.js';
import { cleanup, startTestGateway } from './support/harness.js';
import { signToken } from './support/jwt.js';

afterEach(cleanup);

const APP = 'https://app.example';
const SECRET = 'an-origin-test-secret-of-32-bytes-or-more';

describe('normalizeOrigin / parseAllowedOrigins', () => {
  it('normalizes scheme://host[:port] as browsers serialize it', () => {
    expect(normalizeOrigin('HTTPS://App.Example')).toBe(APP);
    expect(normalizeOrigin('https://app.example:443')).toBe(APP);
    expect(normalizeOrigin('http://localhost:3000')).toBe('http://localhost:3000');
    expect(normalizeOrigin('http://[::1]:8080')).toBe('http://[::1]:8080');
    expect(normalizeOrigin('chrome-extension://AbcDef')).toBe('chrome-extension://abcdef');
  });

  it.each(['app.example', 'https://app.example/', 'https://app.example/path', 'https://app.example?q', 'https://u@app.example', 'https://app.example:99999', 'null', '*', 'https://', 'https://a.example, https://b.example'])(
    'is not an origin: %j',
    (value) => expect(normalizeOrigin(value)).toBeNull(),
  );

  it('parses a list (blanks and duplicates dropped) or * alone', () => {
    expect(parseAllowedOrigins(` ${APP} ,,http://localhost:3000, https://APP.example`)).toEqual([APP, 'http://localhost:3000']);
    expect(parseAllowedOrigins(' * ')).toEqual(['*']);
    expect(() => parseAllowedOrigins('*, https://app.example')).toThrow('must stand alone');
    expect(() => parseAllowedOrigins(' , ')).toThrow('expected');
    expect(() => parseAllowedOrigins('https://app.example/')).toThrow('"https://app.example/"');
  });
});

describe('OriginPolicy', () => {
  it('unset: allows every origin and sends no CORS header', () => {
    const policy = new OriginPolicy(null);
    expect(policy.enforced).toBe(false);
    for (const origin of [undefined, APP, 'null', 'garbage']) expect(policy.allows(origin)).toBe(true);
    expect(policy.responseHeaders(APP)).toEqual({});
    expect(policy.preflightHeaders(APP)).toEqual({});
  });

  it('a list: allows listed origins (normalized) and requests without Origin, nothing else', () => {
    const policy = new OriginPolicy([APP]);
    expect(policy.enforced).toBe(true);
    expect(policy.allows(undefined)).toBe(true);
    expect(policy.allows(APP)).toBe(true);
    expect(policy.allows('HTTPS://app.example:443')).toBe(true);
    for (const origin of ['https://evil.example', 'http://app.example', 'https://app.example:8443', 'null', '', 'garbage', `${APP}, https://evil.example`]) {
      expect({ origin, allowed: policy.allows(origin) }).toEqual({ origin, allowed: false });
    }
  });

  it('*: allows every origin, opaque ones too', () => {
    const policy = new OriginPolicy(['*']);
    for (const origin of [undefined, APP, 'null', 'garbage']) expect(policy.allows(origin)).toBe(true);
  });

  it('response headers echo an allowed origin and always vary on Origin', () => {
    const policy = new OriginPolicy([APP]);
    expect(policy.responseHeaders(APP)).toEqual({ 'Access-Control-Allow-Origin': APP, Vary: 'Origin' });
    expect(policy.responseHeaders('https://evil.example')).toEqual({ Vary: 'Origin' });
    expect(policy.responseHeaders(undefined)).toEqual({ Vary: 'Origin' });
    expect(new OriginPolicy(['*']).responseHeaders('https://any.example')).toEqual({ 'Access-Control-Allow-Origin': 'https://any.example', Vary: 'Origin' });
  });

  it('preflight headers allow the transports\' methods and Content-Type for an allowed origin only', () => {
    const policy = new OriginPolicy([APP]);
    expect(policy.preflightHeaders(APP)).toEqual({
      'Access-Control-Allow-Origin': APP,
      Vary: 'Origin',
      'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '600',
    });
    expect(policy.preflightHeaders('https://evil.example')).toEqual({ Vary: 'Origin' });
  });
});

describe('ROOMS_CORS_ORIGINS config', () => {
  it('is null when unset or blank', () => {
    expect(loadConfig({}).corsOrigins).toBeNull();
    expect(loadConfig({ ROOMS_CORS_ORIGINS: '  ' }).corsOrigins).toBeNull();
  });

  it.each(['app.example', 'https://app.example/', 'https://app.example/x', '*,https://app.example', ',', 'https://app.example:70000'])(
    'refuses %j with a ConfigError naming the variable',
    (value) => {
      expect(() => loadConfig({ ROOMS_CORS_ORIGINS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ ROOMS_CORS_ORIGINS: value })).toThrow(/^ROOMS_CORS_ORIGINS: /);
    },
  );
});

describe('WebSocket upgrade with ROOMS_CORS_ORIGINS', () => {
  it('set to a list: 403 for another origin (no upgrade), 101 for a listed one and for no Origin header', async () => {
    const gw = await startTestGateway({ ROOMS_CORS_ORIGINS: `${APP},http://localhost:3000` });
    for (const origin of ['https://evil.example', 'http://app.example', 'null']) {
      expect({ origin, status: await upgradeStatus(gw.url, { ws: { origin } }) }).toEqual({ origin, status: 403 });
    }
    expect(gw.gateway.connectionCount).toBe(0);
    const listed = await gw.connect({}, { origin: APP });
    expect(listed.welcome.resumed).toBe(false);
    expect((await gw.connect({}, { origin: 'http://localhost:3000' })).welcome.resumed).toBe(false);
    // No Origin header: a non-browser client (the `ws` client sends none unless told).
    const bare = await gw.connect();
    await bare.ok('ping', {});
  });

  it('a disallowed origin gets 403 before its token is looked at', async () => {
    const gw = await startTestGateway({ ROOMS_CORS_ORIGINS: APP, ROOMS_JWT_SECRET: SECRET });
    const token = await signToken(SECRET, { sub: 'u' });
    expect(await upgradeStatus(`${gw.url}?token=${token}`, { ws: { origin: 'https://evil.example' } })).toBe(403);
    expect(await upgradeStatus(gw.url, { ws: { origin: APP } })).toBe(401);
    expect((await gw.connect({ token }, { origin: APP })).welcome.resumed).toBe(false);
  });

  it('set to *: every origin connects', async () => {
    const gw = await startTestGateway({ ROOMS_CORS_ORIGINS: '*' });
    for (const origin of ['https://evil.example', 'null']) expect((await gw.connect({}, { origin })).welcome.resumed).toBe(false);
    expect((await gw.connect()).welcome.resumed).toBe(false);
  });

  it('unset: any origin connects (v1 behaviour)', async () => {
    const gw = await startTestGateway();
    expect((await gw.connect({}, { origin: 'https://evil.example' })).welcome.resumed).toBe(false);
  });
});
