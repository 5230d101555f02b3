/** What a wait watches besides its condition (see {@link waitUntil}). */
export interface WaitWatch {
  /** Checked before each try: an error to fail with at once (the process being waited for exited, say), else null. */
  stopped?: (lastError: unknown) => Error | null | Promise<Error | null>;
  /** Text put after `what` in the timeout's message. */
  detail?: () => string;
  /** Text put at the end of the timeout's message (the output of the process waited for, say). */
  suffix?: () => string;
}

/**
 * Polls `check` every `everyMs` until it returns a truthy value (resolved with it) or `timeoutMs` passes (rejects
 * naming `what` and, when `check` threw, its last error). An error thrown by `check` counts as "not yet". For
 * conditions with no event to wait on, such as a state another process reaches; for a child process's readiness use
 * `WatchedProcess.waitUntil`, which also fails when the process exits and shows its output.
 */
export async function waitUntil<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  everyMs = 20,
  watch: WaitWatch = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const stopped = await watch.stopped?.(lastError);
    if (stopped) throw stopped;
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const last = lastError === undefined ? '' : ` (last check: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${watch.detail?.() ?? ''}${last}${watch.suffix?.() ?? ''}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
