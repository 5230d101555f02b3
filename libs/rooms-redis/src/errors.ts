import { RoomsError } from '@rooms-kit/core';

/** Redis replies that mean a script itself failed (a bug), not that the store is unreachable. */
const SCRIPT_FAILURE = /user_script|Error running script|Error compiling script|ERR.*script/i;

/**
 * Maps a failure of a Redis call to the kernel's catalog: a `RoomsError` stays as it is; a failing Lua script is
 * `INTERNAL`; everything else (connection closed or refused, offline, command timeout, LOADING, CLUSTERDOWN,
 * READONLY, OOM, ...) is `UNAVAILABLE` (temporary), with the original error as `cause`.
 */
export function toStoreError(error: unknown): RoomsError {
  if (error instanceof RoomsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (SCRIPT_FAILURE.test(message) && !/NOSCRIPT/.test(message)) {
    return new RoomsError('INTERNAL', 'a Redis script failed', { cause: error });
  }
  return new RoomsError('UNAVAILABLE', undefined, { cause: error });
}

/**
 * Runs `work` with a deadline: it rejects `UNAVAILABLE` when `work` has not settled after `ms` (the underlying
 * commands may still complete later; their results are ignored). Failures are mapped with `toStoreError`.
 */
export async function withDeadline<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RoomsError('UNAVAILABLE', `the shared store did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work(), expired]);
  } catch (error) {
    throw toStoreError(error);
  } finally {
    clearTimeout(timer);
  }
}
