import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { PROCESS_READY_TIMEOUT_MS, upgradeStatus, WatchedProcess } from '@rooms-kit/testing';
import { ConfigError, loadConfig, MIN_SECRET_BYTES } from '../src/config.js';
import { cleanup, startTestGateway } from './support/harness.js';

const SECRET = 'a-jwt-secret-for-claim-tests-of-32+bytes';
const projectDir = fileURLToPath(new URL('..', import.meta.url));
const started: WatchedProcess[] = [];

afterEach(async () => {
  await cleanup();
  for (const watched of started.splice(0)) if (!watched.exit) watched.child.kill('SIGKILL');
});

/** An HS256 token signed with `secret` carrying exactly `claims` (and `iat`). */
function sign(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(secret));
}

const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

/** The ConfigError loadConfig throws for `env`, or undefined. */
function configErrorOf(env: Record<string, string>): ConfigError | undefined {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  return undefined;
}

describe('Secrets of at least 32 bytes', () => {
  it.each(['ROOMS_JWT_SECRET', 'ROOMS_ADMIN_TOKEN'])('%s shorter than 32 bytes (UTF-8) is refused with a message naming it and the minimum', (variable) => {
    expect(MIN_SECRET_BYTES).toBe(32);
    for (const value of ['k', 'x'.repeat(31), `${'é'.repeat(15)}x`]) {
      const error = configErrorOf({ [variable]: value });
      expect(error?.variable).toBe(variable);
      expect(error?.message).toContain(variable);
      expect(error?.message).toContain('at least 32 bytes');
    }
    // 32 bytes are enough, counted in UTF-8 (16 two-byte characters).
    for (const value of ['x'.repeat(32), 'é'.repeat(16)]) expect(configErrorOf({ [variable]: value })).toBeUndefined();
  });

  it('stops the real process with exit 1 and the message on stderr when a secret is short', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: projectDir,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ROOMS_LOG_LEVEL: 'silent', ROOMS_JWT_SECRET: 'short' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const watched = new WatchedProcess(child, 'the gateway process');
    started.push(watched);
    expect((await watched.exited).code).toBe(1);
    await watched.outputEnded;
    expect(watched.output).toContain('ROOMS_JWT_SECRET: must be at least 32 bytes');
  }, PROCESS_READY_TIMEOUT_MS + 30_000);

  it('reads ROOMS_JWT_AUDIENCE, ROOMS_JWT_ISSUER and ROOMS_JWT_REQUIRE_EXP (true/false only, default false)', () => {
    expect(loadConfig({})).toMatchObject({ jwtAudience: null, jwtIssuer: null, jwtRequireExp: false });
    expect(loadConfig({ ROOMS_JWT_AUDIENCE: 'rooms', ROOMS_JWT_ISSUER: 'https://id.example', ROOMS_JWT_REQUIRE_EXP: 'true' })).toMatchObject({
      jwtAudience: 'rooms',
      jwtIssuer: 'https://id.example',
      jwtRequireExp: true,
    });
    expect(loadConfig({ ROOMS_JWT_REQUIRE_EXP: 'false' }).jwtRequireExp).toBe(false);
    for (const value of ['yes', '1', 'TRUE']) expect(configErrorOf({ ROOMS_JWT_REQUIRE_EXP: value })?.variable).toBe('ROOMS_JWT_REQUIRE_EXP');
  });
});

describe('Token claims a node requires (ROOMS_JWT_AUDIENCE, ROOMS_JWT_ISSUER, ROOMS_JWT_REQUIRE_EXP)', () => {
  it('with an audience and an issuer set, refuses (401 at the upgrade) a token without them or with others', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET, ROOMS_JWT_AUDIENCE: 'rooms', ROOMS_JWT_ISSUER: 'https://id.example' });
    const refused: Record<string, Record<string, unknown>> = {
      'no aud, no iss': { sub: 'u' },
      'no aud': { sub: 'u', iss: 'https://id.example' },
      'no iss': { sub: 'u', aud: 'rooms' },
      'another aud': { sub: 'u', aud: 'billing', iss: 'https://id.example' },
      'another iss': { sub: 'u', aud: 'rooms', iss: 'https://evil.example' },
      'aud list without ours': { sub: 'u', aud: ['billing', 'mail'], iss: 'https://id.example' },
    };
    for (const [label, claims] of Object.entries(refused)) {
      expect({ label, status: await upgradeStatus(`${gw.url}?token=${await sign(claims)}`) }).toEqual({ label, status: 401 });
    }
    const alice = await gw.connect({ token: await sign({ sub: 'alice', aud: 'rooms', iss: 'https://id.example' }) });
    expect(alice.welcome.resumed).toBe(false);
    const bob = await gw.connect({ token: await sign({ sub: 'bob', aud: ['billing', 'rooms'], iss: 'https://id.example' }) });
    expect(bob.welcome.resumed).toBe(false);
  });

  it('with ROOMS_JWT_REQUIRE_EXP=true, refuses a token without exp and takes one with it', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET, ROOMS_JWT_REQUIRE_EXP: 'true' });
    expect(await upgradeStatus(`${gw.url}?token=${await sign({ sub: 'u' })}`)).toBe(401);
    expect(await upgradeStatus(`${gw.url}?token=${await sign({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 10 })}`)).toBe(401);
    expect((await gw.connect({ token: await sign({ sub: 'u', exp: inAnHour() }) })).welcome.resumed).toBe(false);
  });

  it('by default (v1 compatible) takes a token without exp, aud or iss', async () => {
    const gw = await startTestGateway({ ROOMS_JWT_SECRET: SECRET });
    expect((await gw.connect({ token: await sign({ sub: 'u' }) })).welcome.resumed).toBe(false);
    expect((await gw.connect({ token: await sign({ sub: 'v', aud: 'anything', iss: 'anyone' }) })).welcome.resumed).toBe(false);
  });
});
