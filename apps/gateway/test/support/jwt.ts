import { SignJWT } from 'jose';

/**
 * Signs a test JWT: `sub` when given (any JSON value, to test malformed claims), `exp` in epoch seconds when given,
 * HS256 unless `alg` says otherwise.
 */
export function signToken(secret: string, claims: { sub?: unknown; exp?: number } = {}, alg = 'HS256'): Promise<string> {
  const payload: Record<string, unknown> = {};
  if (claims.sub !== undefined) payload.sub = claims.sub;
  const jwt = new SignJWT(payload).setProtectedHeader({ alg }).setIssuedAt();
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(secret));
}
