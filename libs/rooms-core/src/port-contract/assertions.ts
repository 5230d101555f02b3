import { RoomsError } from '@rooms-kit/contract';
import type { ErrorCode } from '@rooms-kit/contract';

/**
 * The assertions of the contract suite: each throws an `Error` describing what was expected and what came, so any
 * test runner reports it. Equality is structural: arrays element by element, objects by their own keys, a key whose
 * value is `undefined` counting as absent.
 *
 * Why the suite has its own (and its own poll loop, `eventually`) rather than a runner's `expect`/`vi.waitFor` or
 * `waitUntil` of `@rooms-kit/testing`: the suite is an export of the kernel, run by every backend with the runner it
 * likes, so it may not need a test runner at run time; and the kernel depends on nothing of ours but the contract lib
 * (a module boundary lint enforces), so the testing lib, Node-only test infrastructure, is out of its reach.
 */

/** Thrown by a failed assertion of the contract suite. */
export class ContractAssertionError extends Error {
  override readonly name = 'ContractAssertionError';
}

/** Structural equality (see the module doc). */
export function deepEqual(actual: unknown, expected: unknown): boolean {
  if (Object.is(actual, expected)) return true;
  if (Array.isArray(actual) || Array.isArray(expected)) {
    if (!Array.isArray(actual) || !Array.isArray(expected) || actual.length !== expected.length) return false;
    return actual.every((item, i) => deepEqual(item, expected[i]));
  }
  if (!isObject(actual) || !isObject(expected)) return false;
  const keys = new Set([...definedKeys(actual), ...definedKeys(expected)]);
  for (const key of keys) if (!deepEqual(actual[key], expected[key])) return false;
  return true;
}

/** True when `actual` has every key of `pattern` with a matching value (objects recursively; anything else equal). */
export function matches(actual: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    return Array.isArray(actual) && actual.length === pattern.length && pattern.every((item, i) => matches(actual[i], item));
  }
  if (!isObject(pattern)) return deepEqual(actual, pattern);
  if (!isObject(actual)) return false;
  return definedKeys(pattern).every((key) => matches(actual[key], pattern[key]));
}

/** Fails unless `actual` equals `expected` structurally. */
export function assertEqual(actual: unknown, expected: unknown, what: string): void {
  if (!deepEqual(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

/** Fails unless `actual` has the keys and values of `pattern` (see `matches`). */
export function assertMatch(actual: unknown, pattern: unknown, what: string): void {
  if (!matches(actual, pattern)) fail(`${what}: expected a value matching ${show(pattern)}, got ${show(actual)}`);
}

/** Fails unless `condition` holds. */
export function assertTrue(condition: boolean, what: string): void {
  if (!condition) fail(what);
}

/** Fails unless `list` holds an item equal to `item`. */
export function assertIncludes(list: readonly unknown[], item: unknown, what: string): void {
  if (!list.some((x) => deepEqual(x, item))) fail(`${what}: expected ${show(list)} to include ${show(item)}`);
}

/** Fails when `list` holds an item equal to `item`. */
export function assertExcludes(list: readonly unknown[], item: unknown, what: string): void {
  if (list.some((x) => deepEqual(x, item))) fail(`${what}: expected ${show(list)} not to include ${show(item)}`);
}

/** Resolves with the `RoomsError` `promise` rejects with; fails when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>, what: string): Promise<RoomsError> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: true as const, value }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) return fail(`${what}: expected a rejection, got ${show(outcome.value)}`);
  if (!(outcome.error instanceof RoomsError)) return fail(`${what}: expected a RoomsError, got ${String(outcome.error)}`);
  return outcome.error;
}

/** Fails unless `promise` rejects with a `RoomsError` of `code`; resolves with that error. */
export async function assertCode(promise: Promise<unknown>, code: ErrorCode, what: string): Promise<RoomsError> {
  const error = await rejection(promise, what);
  if (error.code !== code) fail(`${what}: expected a rejection with ${code}, got ${error.code} (${error.message})`);
  return error;
}

/**
 * Resolves once `condition` holds (checked every 10 ms); fails after `timeoutMs`. A copy of the testing lib's
 * `waitUntil` in small, because the kernel cannot depend on that lib (see the module doc).
 */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function fail(message: string): never {
  throw new ContractAssertionError(message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function definedKeys(value: Record<string, unknown>): string[] {
  return Object.keys(value).filter((key) => value[key] !== undefined);
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
