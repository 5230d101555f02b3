/** Where the backend connects: one Redis (any URL ioredis accepts) or the seed nodes of a Redis Cluster. */
export type RedisTarget =
  | { mode: 'single'; url: string }
  | { mode: 'cluster'; nodes: Array<{ host: string; port: number }>; username?: string; password?: string; tls: boolean };

/**
 * Parses `ROOMS_REDIS_URL`: `redis://host:port[/db]` (also `rediss://`, with optional `user:pass@`) is one Redis;
 * `redis+cluster://[user:pass@]h1:p1,h2:p2` (or `rediss+cluster://`) lists seed nodes of a Redis Cluster.
 * Throws a `TypeError` naming the problem for anything else.
 */
export function parseRedisUrl(url: string): RedisTarget {
  const match = /^(rediss?)(\+cluster)?:\/\/(.*)$/.exec(url.trim());
  if (!match) throw new TypeError(`unsupported Redis URL ${JSON.stringify(url)}: expected redis://host:port or redis+cluster://h1:p1,h2:p2`);
  const [, scheme, cluster, rest = ''] = match;
  if (!cluster) return { mode: 'single', url: url.trim() };
  const at = rest.lastIndexOf('@');
  const auth = at >= 0 ? rest.slice(0, at) : '';
  const hosts = (at >= 0 ? rest.slice(at + 1) : rest).replace(/\/.*$/, '');
  const nodes = hosts.split(',').filter(Boolean).map((hostPort) => {
    const cut = hostPort.lastIndexOf(':');
    const host = cut > 0 ? hostPort.slice(0, cut) : hostPort;
    const port = cut > 0 ? Number(hostPort.slice(cut + 1)) : 6379;
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new TypeError(`bad cluster node ${JSON.stringify(hostPort)} in Redis URL`);
    return { host: host.replace(/^\[(.*)\]$/, '$1'), port };
  });
  if (nodes.length === 0) throw new TypeError('a redis+cluster:// URL needs at least one host:port');
  const target: RedisTarget = { mode: 'cluster', nodes, tls: scheme === 'rediss' };
  if (auth) {
    const colon = auth.indexOf(':');
    const username = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth);
    const password = colon >= 0 ? decodeURIComponent(auth.slice(colon + 1)) : '';
    if (username) target.username = username;
    if (password) target.password = password;
  }
  return target;
}
