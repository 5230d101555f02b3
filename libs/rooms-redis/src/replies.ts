import { RoomsError } from '@rooms-kit/core';

/**
 * Readers of raw Redis replies (as ioredis returns them: strings, integers, arrays, null). An unexpected shape is a
 * bug (of a script or of the store's contents), so each reader throws `RoomsError('INTERNAL')` naming it.
 */

/** The reply as an array. */
export function asArray(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new RoomsError('INTERNAL', `expected an array reply, got ${typeof reply}`);
  return reply;
}

/** The reply as a string (integers are converted). */
export function asString(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (typeof reply === 'number') return String(reply);
  throw new RoomsError('INTERNAL', `expected a string reply, got ${typeof reply}`);
}

/** The reply as a safe integer (numeric strings are parsed). */
export function asInt(reply: unknown): number {
  const value = typeof reply === 'string' ? Number(reply) : reply;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new RoomsError('INTERNAL', `expected an integer reply, got ${String(reply)}`);
  return value;
}

/** The reply as an array of strings. */
export function asStrings(reply: unknown): string[] {
  return asArray(reply).map(asString);
}
