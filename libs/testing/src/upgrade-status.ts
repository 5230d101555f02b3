import { ProtocolClient, UpgradeRefusedError } from './protocol-client.js';
import type { OpenOptions } from './protocol-client.js';

/**
 * The HTTP status the server refuses a WebSocket upgrade to `url` with. Rejects when the upgrade is accepted (the
 * connection is dropped then) and when the connection fails otherwise.
 */
export async function upgradeStatus(url: string, options: OpenOptions = {}): Promise<number> {
  let client: ProtocolClient;
  try {
    client = await ProtocolClient.open(url, options);
  } catch (error) {
    if (error instanceof UpgradeRefusedError) return error.status;
    throw error;
  }
  await client.terminate();
  throw new Error(`the upgrade to ${url} was accepted`);
}
