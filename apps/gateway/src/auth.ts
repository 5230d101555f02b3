import { jwtVerify } from 'jose';
import type { JWTVerifyOptions } from 'jose';
import type { GatewayConfig } from './config.js';

/**
 * Who a connection is, from its token: `user` is the JWT's `sub`; `expiresAt` its `exp` in epoch ms; `verified`
 * when a token was checked (auth on), so that a token without `sub` still binds resumes to sessions without a user.
 */
export interface Identity {
  user?: string;
  expiresAt?: number;
  verified?: true;
}

/**
 * A refused token (missing, malformed, wrongly signed, expired, not HS256, a `sub` that is not a string, or a
 * claim the {@link TokenRules} require missing or different). Answered with HTTP 401.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
}

/** What a token must carry beyond a valid signature (`ROOMS_JWT_AUDIENCE`, `ROOMS_JWT_ISSUER`, `ROOMS_JWT_REQUIRE_EXP`). */
export interface TokenRules {
  /** When set, the token's `aud` (a string, or an array) must contain it. */
  audience?: string | null;
  /** When set, the token's `iss` must equal it. */
  issuer?: string | null;
  /** When true, a token without `exp` is refused (else such a token never expires, as in v1). */
  requireExp?: boolean;
}

/**
 * Verifies connection tokens: HS256 JWTs signed with the configured secret. `jose` checks the signature, the
 * algorithm (only HS256), the time claims (`exp`, `nbf`) and the claims `rules` require (`aud`, `iss`, the
 * presence of `exp`); `sub`, when present, must be a string.
 */
export class TokenVerifier {
  private readonly key: Uint8Array;
  private readonly options: JWTVerifyOptions;

  constructor(secret: string, rules: TokenRules = {}) {
    this.key = new TextEncoder().encode(secret);
    const options: JWTVerifyOptions = { algorithms: ['HS256'] };
    if (rules.audience != null) options.audience = rules.audience;
    if (rules.issuer != null) options.issuer = rules.issuer;
    if (rules.requireExp === true) options.requiredClaims = ['exp'];
    this.options = options;
  }

  /** Resolves with the token's identity, or rejects with {@link AuthError}. */
  async verify(token: string | null): Promise<Identity> {
    if (token === null || token === '') throw new AuthError('token required');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, this.options));
    } catch (error) {
      throw new AuthError(error instanceof Error ? error.message : 'invalid token');
    }
    const identity: Identity = { verified: true };
    // jose types `sub` as a string but does not check it: a number or object must not become a user id.
    const subject: unknown = payload.sub;
    if (subject !== undefined && typeof subject !== 'string') throw new AuthError('the sub claim must be a string');
    if (subject !== undefined) identity.user = subject;
    if (payload.exp !== undefined) identity.expiresAt = payload.exp * 1000;
    return identity;
  }
}

/** The gateway's token verifier for `config`: null when `ROOMS_JWT_SECRET` is unset (auth off). */
export function tokenVerifierFor(config: Pick<GatewayConfig, 'jwtSecret' | 'jwtAudience' | 'jwtIssuer' | 'jwtRequireExp'>): TokenVerifier | null {
  if (config.jwtSecret === null) return null;
  return new TokenVerifier(config.jwtSecret, { audience: config.jwtAudience, issuer: config.jwtIssuer, requireExp: config.jwtRequireExp });
}
