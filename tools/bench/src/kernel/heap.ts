/** The `gc` function node exposes with `--expose-gc`, or undefined without the flag. */
export function exposedGc(): (() => void) | undefined {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

/**
 * Bytes of live JS heap after full collections. Throws when node runs without `--expose-gc`: without a collection
 * the figure would count garbage.
 */
export function liveHeapBytes(): number {
  const gc = exposedGc();
  if (!gc) throw new Error('liveHeapBytes needs node --expose-gc');
  // Two passes: the first may only queue finalisers and weak-reference clean-up that the second completes.
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
