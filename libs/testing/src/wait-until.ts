/**
 * Polls `check` every `everyMs` until it returns a truthy value (resolved with it) or `timeoutMs` passes (rejects
 * with `what` in the message). For conditions with no event to wait on, such as a port that starts answering or a
 * state another process reaches.
 */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
