import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Backend } from '@rooms-kit/core';
import { ProtocolClient } from '@rooms-kit/testing';
import type { ClientOptions } from 'ws';
import { loadConfig } from '../../src/config.js';
import { Gateway } from '../../src/gateway.js';

/** A gateway started in-process for a test, with helpers to reach it. */
export interface TestGateway {
  gateway: Gateway;
  port: number;
  /** `ws://127.0.0.1:port/v1` */
  url: string;
  /** `http://127.0.0.1:port` */
  http: string;
  /** Connects a client (waits for `welcome`); `query` is appended to the URL. */
  connect(query?: Record<string, string>, options?: ClientOptions): Promise<ProtocolClient>;
  /** Opens a client without waiting for `welcome`. */
  open(query?: Record<string, string>, options?: ClientOptions): Promise<ProtocolClient>;
  /** The server side of `client`'s TCP connection (to watch it being closed or destroyed). */
  serverSocketOf(client: ProtocolClient): Socket;
}

const gateways: Gateway[] = [];
const clients: ProtocolClient[] = [];

/** Starts a gateway on a free port with `env` (over silent logs, 127.0.0.1, PORT=0). Closed by {@link cleanup}. */
export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ROOMS_LOG_LEVEL: 'silent', ...env });
  const gateway = new Gateway(config);
  gateways.push(gateway);
  // White-box: the HTTP server is private; tests only watch the sockets it accepts.
  const accepted: Socket[] = [];
  (gateway as unknown as { server: Server }).server.on('connection', (socket: Socket) => accepted.push(socket));
  const port = await gateway.start();
  const url = `ws://127.0.0.1:${port}/v1`;
  const withQuery = (query: Record<string, string> = {}): string => {
    const search = new URLSearchParams(query).toString();
    return search === '' ? url : `${url}?${search}`;
  };
  return {
    gateway,
    port,
    url,
    http: `http://127.0.0.1:${port}`,
    connect: async (query, options) => track(await ProtocolClient.connect(withQuery(query), { ws: options })),
    open: async (query, options) => track(await ProtocolClient.open(withQuery(query), { ws: options })),
    serverSocketOf: (client) => {
      const local = clientSocket(client).localPort;
      const found = accepted.find((socket) => socket.remotePort === local);
      if (!found) throw new Error(`no server socket for the client on port ${local}`);
      return found;
    },
  };
}

/** The client's own TCP socket (to pause its reading). */
export function clientSocket(client: ProtocolClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

/**
 * Makes `slow` a slow consumer of `group`: its socket stops reading, and `sender` (a member) broadcasts `chunkBytes`
 * messages to the group, 20 at a time, until the gateway closed a connection (4008). `slow` stays paused: resume it
 * with `clientSocket(slow).resume()` to read what was written and the close. Resolves with the number of broadcasts
 * (the group's last offset, for a group with no earlier message).
 */
export async function overflowSlowConsumer(gw: TestGateway, sender: ProtocolClient, slow: ProtocolClient, group: string, chunkBytes: number): Promise<number> {
  clientSocket(slow).pause();
  const connections = gw.gateway.connectionCount;
  const chunk = 'x'.repeat(chunkBytes);
  let ref = 0;
  while (gw.gateway.connectionCount === connections) {
    if (ref > 20_000) throw new Error('the slow consumer was never closed');
    for (let i = 0; i < 20; i++) sender.send({ op: 'broadcast', ref: ++ref, group, data: chunk });
    await sender.waitFor((m) => m.ref === ref);
  }
  return ref;
}

/** Resolves with `promise`, or rejects after `timeoutMs` naming `label`. */
export function within<T>(promise: Promise<T>, label: string, timeoutMs = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${label}`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resume token checks held back by {@link holdSessionTakes}. */
export interface HeldTakes {
  /** Resolves once a `take` reached the store and is being held. */
  reached: Promise<void>;
  /** Lets every held `take` (and every later one) go on to the store. */
  release(): void;
}

/**
 * White-box: holds every `take` of `gateway`'s session store (the kernel's token check of a resume, a store round
 * trip) until `release()`, so a test can make things happen while a resume waits for its answer. The gateway must
 * be started (its kernel is created then).
 */
export function holdSessionTakes(gateway: Gateway): HeldTakes {
  const store = (gateway.node as unknown as { backend: Backend }).backend.sessions;
  const take = store.take.bind(store);
  let reached!: () => void;
  let release!: () => void;
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  store.take = async (...args) => {
    reached();
    await released;
    return take(...args);
  };
  return { reached: reachedPromise, release };
}

/** Registers a client for {@link cleanup}. */
export function track(client: ProtocolClient): ProtocolClient {
  clients.push(client);
  return client;
}

/** Drops every client and closes every gateway the test started. Use in `afterEach`. */
export async function cleanup(): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.terminate()));
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
}

/** Polls `check` every 10 ms until it returns true, failing after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, label: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A group's `group` op result, asked by `client`. */
export async function groupState(client: ProtocolClient, group: string): Promise<string | undefined> {
  const reply = await client.request('group', { group });
  return reply.ok === true ? (reply.state as string) : undefined;
}

/** Calls the admin API: resolves with the status and the parsed JSON body. */
export async function adminCall(
  gw: TestGateway,
  method: string,
  path: string,
  options: { token?: string | null; body?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.http}${path}`, { method, headers, body: options.body });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** The admin token tests configure with `ROOMS_ADMIN_TOKEN`. */
export const ADMIN_TOKEN = 'test-admin-token-of-at-least-32-bytes';
