import type { IdleResult, WireProtocol } from '../ipc.js';
import type { BenchConnection } from './connection.js';
import { createConnection, forEachLimited } from './connect.js';

/** Connections opened by `connectIdle`; kept open (and referenced) until the driver exits. */
const idle: BenchConnection[] = [];

/** Opens `count` connections that then stay idle, spread over `urls`, and reports how long that took. */
export async function connectIdle(protocol: WireProtocol, urls: string[], count: number): Promise<IdleResult> {
  const started = performance.now();
  let connected = 0;
  await forEachLimited(count, 200, async (i) => {
    const conn = createConnection(protocol, urls[i % urls.length]!);
    idle.push(conn);
    await conn.open();
    connected++;
  });
  return { connected, seconds: (performance.now() - started) / 1000 };
}
