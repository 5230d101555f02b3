import { jwtVerify } from 'jose';

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
 * A refused token (missing, malformed, wrongly signed, expired, not HS256, or a `sub` that is not a string).
 * Answered with HTTP 401.
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
}

/**
 * Verifies connection tokens: HS256 JWTs signed with the configured secret. `jose` checks the signature, the
 * algorithm (only HS256) and the time claims (`exp`, `nbf`); `sub`, when present, must be a string.
 */
export class TokenVerifier {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** Resolves with the token's identity, or rejects with {@link AuthError}. */
  async verify(token: string | null): Promise<Identity> {
    if (token === null || token === '') throw new AuthError('token required');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] }));
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
