import type { NodeManager } from '@rooms-kit/core';
import type { Logger } from 'pino';

/**
 * Tells the kernel what became of `session`, whose connection ended: `end` ends it (members get `left` with reason
 * `disconnect`), `suspend` suspends it (resumable) with, per group it is still in, the last message offset that
 * reached the client (`written`; a group it lacks resumes from the kernel's own record). Deferred by a microtask: a
 * connection can end inside the kernel's own delivery, which must not be re-entered; `stillOurs` is asked then, and
 * a session taken over or kicked meanwhile is left alone. Never rejects: a failure is logged.
 */
export function settleWithKernel(
  node: NodeManager,
  session: string,
  fate: 'suspend' | 'end',
  written: ReadonlyMap<string, number> | null,
  stillOurs: () => boolean,
  logger: Logger,
): Promise<void> {
  const offsets: Record<string, number> = {};
  for (const group of node.groupsOf(session).groups) {
    const offset = written?.get(group);
    if (offset !== undefined) offsets[group] = offset;
  }
  return Promise.resolve()
    .then(() => {
      if (!stillOurs()) return;
      return fate === 'end' ? node.unregisterSession(session, 'disconnect') : node.suspendSession(session, offsets);
    })
    .catch((error: unknown) => logger.warn({ err: error, session }, 'settling the session failed'));
}
