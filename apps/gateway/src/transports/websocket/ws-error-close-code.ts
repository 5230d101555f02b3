/**
 * The close code `ws` closes a connection with after a protocol error it detected itself (its `WS_ERR_*` errors,
 * RFC 6455 §7.4.1): 1009 for a frame or message over `maxPayload`, 1007 for invalid UTF-8, 1008 for too many
 * fragments, 1002 for the other protocol errors. Null for any other error (a socket error closes without a code).
 */
export function wsErrorCloseCode(error: unknown): number | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return null;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  if (code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS') return 1008;
  return 1002;
}
