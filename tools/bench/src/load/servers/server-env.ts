/** The listen address for a peer server from its environment: `HOST` (127.0.0.1) and `PORT` (required). */
export function listenAddress(): { host: string; port: number } {
  const port = Number(process.env.PORT);
  if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set to a free port');
  return { host: process.env.HOST ?? '127.0.0.1', port };
}

/** Tells the orchestrator (over IPC, when forked) that the server accepts connections. */
export function announceReady(port: number): void {
  process.send?.({ type: 'bench:ready', port });
}
