import { PROTOCOL_PATH } from '@rooms-kit/protocol/client';

/**
 * The URL to open: `base` with `/v1` as path when it has none, `http(s):` turned into `ws(s):`, and each defined
 * parameter set in the query (replacing one of the same name).
 */
export function connectionUrl(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '' || url.pathname === '/') url.pathname = PROTOCOL_PATH;
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.toString();
}
