import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig (docs/protocol.md "Environment")', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      redisUrl: null,
      emptyGraceMs: 5000,
      resumeWindowMs: 30_000,
      nodeTtlMs: 3000,
      maxPayload: 65_536,
      rateLimit: 200,
      staticGroups: [],
      jwtSecret: null,
      adminToken: null,
      logLevel: 'info',
      heartbeatMs: 25_000,
      maxOutboundBytes: 1 << 20,
      maxGroupsPerSession: 1000,
      maxCreatedGroupsPerSession: 100,
      maxGroups: 100_000,
      maxMemberDataBytes: 4096,
      maxMetaBytes: 4096,
      historyMaxBytes: 1 << 20,
      jwtAudience: null,
      jwtIssuer: null,
      jwtRequireExp: false,
      maxConnections: 10_000,
      maxConnectionsPerIp: 1000,
      headersTimeoutMs: 10_000,
      corsOrigins: null,
    });
    expect(config.nodeId).toMatch(/^node-/);
  });

  it('generates a different node id for every load', () => {
    expect(loadConfig({}).nodeId).not.toBe(loadConfig({}).nodeId);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      ROOMS_REDIS_URL: 'redis+cluster://a:7000,b:7001',
      ROOMS_NODE_ID: 'n1',
      ROOMS_EMPTY_GRACE_MS: '10',
      ROOMS_RESUME_WINDOW_MS: '20',
      ROOMS_NODE_TTL_MS: '30',
      ROOMS_MAX_PAYLOAD: '40',
      ROOMS_RATE_LIMIT: '2.5',
      ROOMS_STATIC_GROUPS: ' lobby, news ,,lobby',
      ROOMS_JWT_SECRET: 's3cret-s3cret-s3cret-s3cret-s3cret',
      ROOMS_ADMIN_TOKEN: 'adm-adm-adm-adm-adm-adm-adm-adm-adm',
      ROOMS_LOG_LEVEL: 'silent',
      ROOMS_HEARTBEAT_MS: '50',
      ROOMS_MAX_OUTBOUND_BYTES: '60',
      ROOMS_MAX_GROUPS_PER_SESSION: '70',
      ROOMS_MAX_CREATED_GROUPS_PER_SESSION: '80',
      ROOMS_MAX_GROUPS: '90',
      ROOMS_MAX_MEMBER_DATA_BYTES: '100',
      ROOMS_MAX_META_BYTES: '110',
      ROOMS_HISTORY_MAX_BYTES: '120',
      ROOMS_JWT_AUDIENCE: 'rooms',
      ROOMS_JWT_ISSUER: 'https://id.example',
      ROOMS_JWT_REQUIRE_EXP: 'true',
      ROOMS_MAX_CONNECTIONS: '130',
      ROOMS_MAX_CONNECTIONS_PER_IP: '140',
      ROOMS_HEADERS_TIMEOUT_MS: '150',
      ROOMS_CORS_ORIGINS: 'https://app.example, HTTP://Admin.Example:8080,https://app.example:443',
    });
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      redisUrl: 'redis+cluster://a:7000,b:7001',
      nodeId: 'n1',
      emptyGraceMs: 10,
      resumeWindowMs: 20,
      nodeTtlMs: 30,
      maxPayload: 40,
      rateLimit: 2.5,
      staticGroups: ['lobby', 'news'],
      jwtSecret: 's3cret-s3cret-s3cret-s3cret-s3cret',
      jwtAudience: 'rooms',
      jwtIssuer: 'https://id.example',
      jwtRequireExp: true,
      adminToken: 'adm-adm-adm-adm-adm-adm-adm-adm-adm',
      logLevel: 'silent',
      heartbeatMs: 50,
      maxOutboundBytes: 60,
      maxGroupsPerSession: 70,
      maxCreatedGroupsPerSession: 80,
      maxGroups: 90,
      maxMemberDataBytes: 100,
      maxMetaBytes: 110,
      historyMaxBytes: 120,
      maxConnections: 130,
      maxConnectionsPerIp: 140,
      headersTimeoutMs: 150,
      corsOrigins: ['https://app.example', 'http://admin.example:8080'],
    });
  });

  it('ROOMS_MAX_GROUPS_PER_SESSION=0 means unlimited (passed on as 0)', () => {
    expect(loadConfig({ ROOMS_MAX_GROUPS_PER_SESSION: '0' }).maxGroupsPerSession).toBe(0);
  });

  it('ROOMS_MAX_CREATED_GROUPS_PER_SESSION=0 and ROOMS_MAX_GROUPS=0 mean unlimited; the byte limits are at least 1', () => {
    expect(loadConfig({ ROOMS_MAX_CREATED_GROUPS_PER_SESSION: '0', ROOMS_MAX_GROUPS: '0' })).toMatchObject({ maxCreatedGroupsPerSession: 0, maxGroups: 0 });
    for (const variable of ['ROOMS_MAX_MEMBER_DATA_BYTES', 'ROOMS_MAX_META_BYTES', 'ROOMS_HISTORY_MAX_BYTES']) {
      expect(() => loadConfig({ [variable]: '0' })).toThrow(ConfigError);
      expect(() => loadConfig({ [variable]: '-5' })).toThrow(`${variable}: expected an integer, got "-5"`);
    }
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', ROOMS_RATE_LIMIT: ' ' })).toMatchObject({ port: 8080, rateLimit: 200 });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['ROOMS_EMPTY_GRACE_MS', '-1'],
    ['ROOMS_RESUME_WINDOW_MS', '1.5'],
    ['ROOMS_NODE_TTL_MS', '0'],
    ['ROOMS_MAX_PAYLOAD', '0'],
    ['ROOMS_RATE_LIMIT', 'fast'],
    ['ROOMS_RATE_LIMIT', '-3'],
    ['ROOMS_STATIC_GROUPS', 'ok,not ok'],
    ['ROOMS_REDIS_URL', 'http://x'],
    ['ROOMS_NODE_ID', 'has space'],
    ['ROOMS_JWT_SECRET', ''],
    ['ROOMS_ADMIN_TOKEN', ''],
    ['ROOMS_JWT_SECRET', 'short'],
    ['ROOMS_ADMIN_TOKEN', 'x'.repeat(31)],
    ['ROOMS_JWT_REQUIRE_EXP', 'yes'],
    ['ROOMS_MAX_CONNECTIONS', '0'],
    ['ROOMS_MAX_CONNECTIONS_PER_IP', '0'],
    ['ROOMS_HEADERS_TIMEOUT_MS', '30001'],
    ['ROOMS_LOG_LEVEL', 'loud'],
    ['ROOMS_HEARTBEAT_MS', '0'],
    ['ROOMS_MAX_OUTBOUND_BYTES', 'x'],
    ['ROOMS_MAX_GROUPS_PER_SESSION', '-1'],
    ['ROOMS_MAX_GROUPS_PER_SESSION', 'many'],
    ['ROOMS_MAX_GROUPS_PER_SESSION', '2.5'],
  ])('refuses %s=%j with a ConfigError naming it', (name, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(name);
    expect((thrown as ConfigError).message).toContain(name);
  });
});
