import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new session id: 128 random bits, base64url (22 characters). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/** A new resume token: 256 random bits, base64url. Sent to the client once; only its hash is kept. */
export function newResumeToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The hash of a resume token as stored by the kernel: sha256 of `${session}:${token}`, hex. Binding the session id
 * in means a token is worthless for any other session.
 */
export function hashResumeToken(session: string, token: string): string {
  return createHash('sha256').update(`${session}:${token}`).digest('hex');
}

/** Compares two strings in constant time (for their length): tokens and hashes. */
export function safeEqual(a: string, b: string): boolean {
  // Hashing first gives equal lengths, so timingSafeEqual never throws and no length is leaked.
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}
