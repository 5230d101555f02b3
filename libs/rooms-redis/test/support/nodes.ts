import { RecordingHandler } from '@rooms-kit/core';
import type { Logger } from '@rooms-kit/core';
import { RedisBackend } from '../../src/index.js';
import type { RedisBackendOptions } from '../../src/index.js';

/** A started backend with its recording handler. */
export interface TestNode {
  node: RedisBackend;
  handler: RecordingHandler;
}

let counter = 0;

/** A node id unique in this process (ids are never reused). */
export function nodeId(label: string): string {
  return `${label}-${process.pid}-${++counter}`;
}

/**
 * Makes and starts backends for one test: `add()` starts one (options merged over the defaults), `closeAll()`
 * closes every one still open (call it in `afterEach`).
 */
export class TestNodes {
  private readonly open: RedisBackend[] = [];

  constructor(private readonly defaults: () => Omit<RedisBackendOptions, 'nodeId'>) {}

  async add(label: string, options: Partial<RedisBackendOptions> = {}): Promise<TestNode> {
    const node = new RedisBackend({ ...this.defaults(), nodeId: nodeId(label), ...options });
    const handler = new RecordingHandler(node.nodeId);
    this.open.push(node);
    await node.start(handler);
    return { node, handler };
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((node) => node.close()));
  }
}

/** A logger that keeps every line, for assertions on what was logged. */
export class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; msg: string; obj: object }> = [];
  debug(obj: object, msg = ''): void {
    this.lines.push({ level: 'debug', msg, obj });
  }
  info(obj: object, msg = ''): void {
    this.lines.push({ level: 'info', msg, obj });
  }
  warn(obj: object, msg = ''): void {
    this.lines.push({ level: 'warn', msg, obj });
  }
  error(obj: object, msg = ''): void {
    this.lines.push({ level: 'error', msg, obj });
  }
}
