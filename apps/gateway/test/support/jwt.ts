import { SignJWT } from 'jose';

/** Signs a test JWT: `sub` when given, `exp` in epoch seconds when given, HS256 unless `alg` says otherwise. */
export function signToken(secret: string, claims: { sub?: string; exp?: number } = {}, alg = 'HS256'): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg }).setIssuedAt();
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(secret));
}
