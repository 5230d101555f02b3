import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Dialler } from '../src/dialler.js';
import type { DiallerHooks } from '../src/dialler.js';
import { RoomsClientError, closedError } from '../src/errors.js';
import type { Transport, TransportFactory, TransportTarget } from '../src/transports/transport.js';
import { webSocketTransport } from '../src/transports/websocket.js';
import { FakeServer, withTimeout } from './fake-server.js';

// The transport seam: the dialler tries its transport factories in order on every attempt and moves on only when a
// transport never reached the gateway.

let server: FakeServer;
let diallers: Dialler[];

beforeEach(async () => {
  server = await FakeServer.start();
  diallers = [];
});

afterEach(async () => {
  await Promise.all(diallers.map((dialler) => withTimeout(dialler.close(1000, '', closedError()), 5000, 'close')));
  await server.stop();
});

/** A transport that reports `events` (after the factory returned, as a real one does) and sends nothing. */
function scripted(tried: TransportTarget[], events: 'never opens' | 'opens, then closes with 4000'): TransportFactory {
  return (target, handlers) => {
    tried.push(target);
    setTimeout(() => {
      if (events === 'never opens') {
        handlers.close({ code: 1006, reason: 'unreachable' });
      } else {
        handlers.open();
        handlers.close({ code: 4000, reason: 'go away' });
      }
    }, 1);
    const transport: Transport = { send: () => false, close: () => undefined };
    return transport;
  };
}

function recording(tried: TransportTarget[]): TransportFactory {
  const websocket = webSocketTransport(WebSocket);
  return (target, handlers) => {
    tried.push(target);
    return websocket(target, handlers);
  };
}

function newDialler(transports: TransportFactory[], errors: RoomsClientError[] = []): Dialler {
  const hooks: DiallerHooks = {
    welcomed: () => undefined,
    message: () => undefined,
    dropped: () => undefined,
    disconnected: () => undefined,
    error: (error) => errors.push(error),
  };
  const dialler = new Dialler(
    {
      url: server.url,
      token: 'secret',
      transports,
      reconnect: false,
      backoff: { minDelayMs: 5, maxDelayMs: 20 },
      welcomeTimeoutMs: 3000,
    },
    hooks,
  );
  diallers.push(dialler);
  return dialler;
}

describe('Dialler transports', () => {
  it('falls back to the next transport when one closes without opening, with the same target', async () => {
    const first: TransportTarget[] = [];
    const second: TransportTarget[] = [];
    const dialler = newDialler([scripted(first, 'never opens'), recording(second)]);
    const welcome = await withTimeout(dialler.connect(), 5000, 'welcome');
    expect(welcome.resumed).toBe(false);
    expect(dialler.state).toBe('open');
    expect(first).toHaveLength(1);
    expect(second).toEqual(first);
    expect(first[0]?.params.token).toBe('secret');
    expect((await server.connections.next('connection')).query.get('token')).toBe('secret');
  });

  it('falls back when a factory throws', async () => {
    const tried: TransportTarget[] = [];
    const throwing: TransportFactory = () => {
      throw new TypeError('not available here');
    };
    const dialler = newDialler([throwing, recording(tried)]);
    await withTimeout(dialler.connect(), 5000, 'welcome');
    expect(tried).toHaveLength(1);
  });

  it('does not fall back when a transport reached the gateway but closed before the welcome', async () => {
    const tried: TransportTarget[] = [];
    const fallback: TransportTarget[] = [];
    const dialler = newDialler([scripted(tried, 'opens, then closes with 4000'), recording(fallback)]);
    const error = await dialler.connect().catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(RoomsClientError);
    expect(error).toMatchObject({ code: 'CONNECT_FAILED', message: 'could not connect (close code 4000: go away)' });
    expect(tried).toHaveLength(1);
    expect(fallback).toEqual([]);
    expect(dialler.state).toBe('idle');
  });

  it('reports the last failure when no transport opens', async () => {
    const tried: TransportTarget[] = [];
    const dialler = newDialler([scripted(tried, 'never opens'), scripted(tried, 'never opens')]);
    const error = await dialler.connect().catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'CONNECT_FAILED', message: 'could not connect (close code 1006: unreachable)' });
    expect(tried).toHaveLength(2);
  });
});
