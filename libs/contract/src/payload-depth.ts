import { MAX_PAYLOAD_DEPTH } from './limits.js';

/**
 * True when `value` nests arrays and objects deeper than `max` levels (default {@link MAX_PAYLOAD_DEPTH}): `{}`, `[]`
 * and `{"a":1}` have depth 1, a scalar 0. Walks the value with an explicit stack, never recursion, so a hostile value
 * nested 100,000 levels deep is measured without overflowing the call stack; it stops at the first branch past the
 * limit. A cycle (only possible for values built in-process) counts as deeper than any limit; the same object reached
 * twice without a cycle is fine.
 */
export function exceedsPayloadDepth(value: unknown, max: number = MAX_PAYLOAD_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // Depth-first with an explicit stack; `path` holds the ancestors of the node being visited (at most `max` of them).
  const path: object[] = [];
  const stack: Array<{ node: object; depth: number }> = [{ node: value, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: object; depth: number };
    if (depth > max) return true;
    path.length = depth - 1;
    if (path.includes(node)) return true;
    path.push(node);
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: depth + 1 });
    }
  }
  return false;
}
