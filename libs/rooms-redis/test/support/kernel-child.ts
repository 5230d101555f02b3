/**
 * A kernel (`NodeManager` on a `RedisBackend`) in a process of its own, for stall tests: started by the test with its
 * settings in the environment, it registers two resumable sessions (`mover` with token hash `h1`, and `watcher`),
 * joins both to an existing group, prints `ready` on stdout, then keeps running until the test SIGKILLs it.
 * It prints one JSON line per thing the test watches: `{"ended":session,"reason":…,"held":bool}` when the kernel ends
 * a session (`onSessionEnded`; `held` says whether it still has the session afterwards), and
 * `{"ev":…,"data":…,"to":[…]}` for each event delivered to its sessions (recipients, sorted).
 */
import { NodeManager } from '@rooms-kit/core';
import type { DeliveryEvent, SessionId } from '@rooms-kit/core';
import { RedisBackend } from '../../src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`missing ${name}`);
  return value;
};

const print = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const backend = new RedisBackend({ url: env('CHILD_REDIS_URL'), nodeId: env('CHILD_NODE_ID'), keyPrefix: env('CHILD_PREFIX'), nodeTtlMs: Number(env('CHILD_NODE_TTL_MS')) });
const node: NodeManager = new NodeManager({
  backend,
  delivery: {
    deliver(event: DeliveryEvent, to: ReadonlySet<SessionId>, except: SessionId | null): void {
      const data = event.ev === 'message' ? event.data : undefined;
      print({ ev: event.ev, data, to: [...to].filter((s) => s !== except).sort() });
    },
  },
  // Ends after the kernel's own bookkeeping, as a connection's close would.
  onSessionEnded: (session, reason) => queueMicrotask(() => print({ ended: session, reason, held: node.hasSession(session) })),
});
await node.start();
const group = env('CHILD_GROUP');
await node.registerSession('mover', { tokenHash: 'h1' });
await node.registerSession('watcher', { tokenHash: 'w1' });
await node.join('mover', group);
await node.join('watcher', group);
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
