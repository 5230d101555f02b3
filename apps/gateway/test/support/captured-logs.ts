import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { GatewayConfig } from '../../src/config.js';
import { Gateway } from '../../src/gateway.js';

/** One line a {@link CapturedLogs} logger wrote, parsed (pino levels: 20 debug, 30 info, 40 warn, 50 error, 60 fatal). */
export interface LogLine {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/** pino's error level: a line at or above it is an error for the operator. */
export const ERROR_LEVEL = 50;

/** A real pino logger at debug level whose lines are kept, parsed, for assertions (nothing is printed). */
export class CapturedLogs {
  readonly lines: LogLine[] = [];
  readonly logger: Logger;

  constructor() {
    const lines = this.lines;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text) as LogLine);
        done();
      },
    });
    this.logger = pino({ level: 'debug' }, sink);
  }

  /** The lines at error level or above. */
  errors(): LogLine[] {
    return this.lines.filter((line) => line.level >= ERROR_LEVEL);
  }

  /** The lines whose message is `msg`. */
  withMessage(msg: string): LogLine[] {
    return this.lines.filter((line) => line.msg === msg);
  }
}

/** A gateway started with a {@link CapturedLogs} logger. */
export interface LoggedGateway {
  gateway: Gateway;
  port: number;
  logs: CapturedLogs;
}

const started: Gateway[] = [];

/** Starts a gateway on a free port of 127.0.0.1 with `env`, logging into a {@link CapturedLogs}. */
export async function startLoggedGateway(env: Record<string, string> = {}, adjust: (config: GatewayConfig) => GatewayConfig = (config) => config): Promise<LoggedGateway> {
  const logs = new CapturedLogs();
  const gateway = new Gateway(adjust(loadConfig({ PORT: '0', HOST: '127.0.0.1', ...env })), { logger: logs.logger });
  started.push(gateway);
  const port = await gateway.start();
  return { gateway, port, logs };
}

/** Closes every gateway {@link startLoggedGateway} started. Use in `afterEach`. */
export async function closeLoggedGateways(): Promise<void> {
  await Promise.all(started.splice(0).map((gateway) => gateway.close()));
}
