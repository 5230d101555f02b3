import { MAX_INVALID_REQUESTS } from '@rooms-kit/contract';
import type { GroupMessage } from '@rooms-kit/core';
import { describe, expect, it } from 'vitest';
import { FanoutDelivery } from '../src/delivery/fanout-delivery.js';
import type { DeliveryTarget } from '../src/delivery/fanout-delivery.js';
import { GatewayStats } from '../src/gateway-stats.js';
import { OutboundQueue } from '../src/session/outbound-queue.js';
import { ParkedFrames } from '../src/session/parked-frames.js';
import { RateLimiter } from '../src/session/rate-limiter.js';
import { REPLAY_PAGE_MESSAGES, replayHistory } from '../src/session/replay-writer.js';
import type { ReplayTarget } from '../src/session/replay-writer.js';
import { RingQueue } from '../src/session/ring-queue.js';
import { ViolationCounter } from '../src/session/violation-counter.js';
import { OutboundFrame } from '../src/transports/outbound-frame.js';
import { writeFrames } from '../src/transports/websocket/websocket-transport.js';
import { wsErrorCloseCode } from '../src/transports/websocket/ws-error-close-code.js';
import { WEBSOCKET_ENCODING, encodeTextFrame } from '../src/transports/websocket/ws-frame.js';
import { Writable } from 'node:stream';

describe('RateLimiter', () => {
  it('allows a burst of twice the rate, then refuses', () => {
    let now = 0;
    const limiter = new RateLimiter(5, () => now);
    const decisions = Array.from({ length: 11 }, () => limiter.take());
    expect(decisions.slice(0, 10)).toEqual(Array(10).fill('allow'));
    expect(decisions[10]).toBe('refuse');
    now += 200; // one token back
    expect(limiter.take()).toBe('allow');
  });

  it('closes a client whose refusals last a second, even when a frame gets through now and then', () => {
    let now = 0;
    const limiter = new RateLimiter(5, () => now);
    for (let i = 0; i < 10; i++) limiter.take();
    const decisions: string[] = [];
    for (let t = 0; t <= 1000; t += 20) {
      now = t;
      decisions.push(limiter.take());
    }
    expect(decisions).toContain('allow');
    expect(decisions.at(-1)).toBe('close');
    expect(decisions.slice(0, -1)).not.toContain('close');
  });

  it('starts a new run after a quiet second', () => {
    let now = 0;
    const limiter = new RateLimiter(1, () => now);
    limiter.take();
    limiter.take();
    expect(limiter.take()).toBe('refuse');
    now = 1500;
    limiter.take();
    limiter.take();
    expect(limiter.take()).toBe('refuse');
  });

  it('keeps a burst of at least one frame when the rate is below 0.5 per second', () => {
    let now = 0;
    const limiter = new RateLimiter(0.4, () => now);
    expect(limiter.take()).toBe('allow');
    expect(limiter.take()).toBe('refuse');
    now += 2500; // 0.4 per second: one token back after 2.5 s
    expect(limiter.take()).toBe('allow');
    expect(limiter.take()).toBe('refuse');
  });

  it('is off at rate 0', () => {
    const limiter = new RateLimiter(0, () => 0);
    for (let i = 0; i < 1000; i++) expect(limiter.take()).toBe('allow');
  });
});

describe('ViolationCounter', () => {
  it('says "too many" at the 21st invalid request within 10 s, not before', () => {
    const now = 0;
    const counter = new ViolationCounter(() => now);
    for (let i = 0; i < MAX_INVALID_REQUESTS; i++) expect(counter.record()).toBe(false);
    expect(counter.record()).toBe(true);
  });

  it('forgets violations older than 10 s', () => {
    let now = 0;
    const counter = new ViolationCounter(() => now);
    for (let i = 0; i < MAX_INVALID_REQUESTS; i++) counter.record();
    now = 10_001;
    expect(counter.record()).toBe(false);
  });
});

describe('encodeTextFrame', () => {
  it.each([0, 125, 126, 65_535, 65_536])('frames %i bytes with the right header', (size) => {
    const text = 'x'.repeat(size);
    const frame = encodeTextFrame(text);
    expect(frame[0]).toBe(0x81);
    const header = size < 126 ? 2 : size < 65_536 ? 4 : 10;
    expect(frame.length).toBe(header + size);
    const declared = header === 2 ? frame[1] : header === 4 ? frame.readUInt16BE(2) : frame.readUInt32BE(6);
    expect(declared).toBe(size);
    expect(frame.subarray(header).toString()).toBe(text);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const frame = encodeTextFrame('é€');
    expect(frame[1]).toBe(5);
  });
});

describe('OutboundQueue', () => {
  const message = (group: string, offset: number) => new OutboundFrame(`{"offset":${offset}}`, group, offset);

  it('writes queued frames in order and empties', () => {
    const written: Buffer[] = [];
    const sink = new Writable({
      writev(chunks, callback) {
        for (const { chunk } of chunks) written.push(chunk as Buffer);
        callback();
      },
      write(chunk, _encoding, callback) {
        written.push(chunk as Buffer);
        callback();
      },
    });
    const queue = new OutboundQueue(WEBSOCKET_ENCODING);
    queue.push(message('g', 1));
    queue.push(message('g', 2));
    expect(queue.bytes).toBeGreaterThan(0);
    queue.writeTo({ write: (frames, onWritten) => writeFrames(sink, frames, WEBSOCKET_ENCODING, onWritten) });
    expect(queue.isEmpty).toBe(true);
    expect(queue.bytes).toBe(0);
    expect(Buffer.concat(written).toString()).toContain('{"offset":1}');
    expect(Buffer.concat(written).toString().indexOf('{"offset":1}')).toBeLessThan(Buffer.concat(written).toString().indexOf('{"offset":2}'));
  });

  it('releases held frames as one array frame, reusing an identical batch', () => {
    const a = new OutboundQueue(WEBSOCKET_ENCODING);
    const b = new OutboundQueue(WEBSOCKET_ENCODING);
    const m1 = message('g', 1);
    const m2 = message('g', 2);
    for (const queue of [a, b]) {
      queue.hold('g', m1);
      queue.hold('g', m2);
    }
    const batch = a.releaseHeld('g', null);
    expect(batch?.json).toBe('[{"offset":1},{"offset":2}]');
    expect(b.releaseHeld('g', batch)).toBe(batch);
    expect(a.releaseHeld('g', null)).toBeNull();
  });

  it('drops the frames held for one group only', () => {
    const queue = new OutboundQueue(WEBSOCKET_ENCODING);
    queue.hold('a', message('a', 1));
    queue.hold('b', message('b', 1));
    const before = queue.bytes;
    queue.dropHeld('a');
    expect(queue.bytes).toBe(before - message('a', 1).json.length);
    expect(queue.releaseHeld('a', null)).toBeNull();
    expect(queue.releaseHeld('b', null)?.json).toBe('[{"offset":1}]');
  });

  it('reports the lowest unwritten offset per group, batches included', () => {
    const queue = new OutboundQueue(WEBSOCKET_ENCODING);
    queue.push(message('a', 7));
    queue.push(message('a', 8));
    queue.hold('b', message('b', 3));
    queue.hold('b', message('b', 4));
    queue.push(new OutboundFrame('{"ref":1,"ok":true}'));
    expect(Object.fromEntries(queue.unwrittenOffsets())).toEqual({ a: 7, b: 3 });
    queue.releaseHeld('b', null);
    expect(Object.fromEntries(queue.unwrittenOffsets())).toEqual({ a: 7, b: 3 });
  });
});

describe('RingQueue', () => {
  it('is first in, first out across growth and wrap-around', () => {
    const queue = new RingQueue<number>(2);
    const out: number[] = [];
    for (let i = 0; i < 10; i++) {
      queue.push(i);
      if (i % 3 === 2) out.push(queue.shift() as number);
    }
    while (queue.size > 0) out.push(queue.shift() as number);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(queue.shift()).toBeUndefined();
  });

  it('does not grow while items pass through one or two at a time, never empty', () => {
    const queue = new RingQueue<number>();
    queue.push(0);
    for (let i = 1; i < 100_000; i++) {
      queue.push(i);
      expect(queue.shift()).toBe(i - 1);
    }
    expect(queue.size).toBe(1);
    expect(queue.capacity).toBe(16);
  });
});

describe('ParkedFrames', () => {
  const frame = (group: string, offset: number) => new OutboundFrame(`{"group":"${group}","offset":${offset}}`, group, offset);

  it('parks only what is held, counts its bytes, and releases in order', () => {
    const parked = new ParkedFrames();
    expect(parked.idle).toBe(true);
    expect(parked.park(frame('g', 1), 0)).toBe(false);
    parked.holdGroup('g');
    expect(parked.idle).toBe(false);
    const f2 = frame('g', 2);
    const f3 = frame('g', 3);
    expect(parked.park(f2, 0)).toBe(true);
    expect(parked.park(frame('h', 1), 0)).toBe(false);
    expect(parked.park(f3, 50)).toBe(true);
    expect(parked.bytes).toBe(f2.json.length + f3.json.length);
    expect(parked.releaseGroup('g')).toEqual([
      { frame: f2, intervalMs: 0 },
      { frame: f3, intervalMs: 50 },
    ]);
    expect(parked.bytes).toBe(0);
    expect(parked.idle).toBe(true);
    parked.holdAll();
    expect(parked.idle).toBe(false);
    expect(parked.park(frame('h', 2), 0)).toBe(true);
    expect(parked.releaseAll()).toHaveLength(1);
    expect(parked.bytes).toBe(0);
    expect(parked.idle).toBe(true);
    expect(parked.park(frame('h', 3), 0)).toBe(false);
  });
});

describe('wsErrorCloseCode', () => {
  it('maps the close ws starts itself; other errors close without a code', () => {
    const error = (code: string) => Object.assign(new Error('x'), { code });
    expect(wsErrorCloseCode(error('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'))).toBe(1009);
    expect(wsErrorCloseCode(error('WS_ERR_INVALID_UTF8'))).toBe(1007);
    expect(wsErrorCloseCode(error('WS_ERR_INVALID_OPCODE'))).toBe(1002);
    expect(wsErrorCloseCode(error('ECONNRESET'))).toBeNull();
    expect(wsErrorCloseCode(new Error('plain'))).toBeNull();
  });
});

describe('replayHistory', () => {
  /** A target that records the frames queued between two waits (one page each). */
  function recorder(): ReplayTarget & { pages: number[][]; end(): void } {
    const pages: number[][] = [[]];
    let ended = false;
    return {
      pages,
      get ended() {
        return ended;
      },
      end: () => (ended = true),
      encoding: WEBSOCKET_ENCODING,
      queueReplayed: (frame) => pages.at(-1)?.push(frame.offset),
      writeAndWait: async () => {
        pages.push([]);
      },
    };
  }
  const history = (from: number, to: number, bytes = 10): GroupMessage[] =>
    Array.from({ length: to - from + 1 }, (_, i) => ({ group: 'g', offset: from + i, from: 's', data: 'x'.repeat(bytes) }));

  it('queues page by page (bytes or messages), in order, skipping offsets at or below since', async () => {
    const target = recorder();
    const last = await replayHistory(target, 'g', 3, history(1, 40, 100), 1000);
    expect(last).toBe(40);
    expect(target.pages.flat()).toEqual(Array.from({ length: 37 }, (_, i) => i + 4));
    // About 150 bytes per frame: a page stops once it reached 1000 bytes.
    for (const page of target.pages.slice(0, -1)) expect(page.length).toBe(7);
    const many = recorder();
    await replayHistory(many, 'g', 0, history(1, 600), 1 << 30);
    expect(many.pages.map((page) => page.length)).toEqual([REPLAY_PAGE_MESSAGES, REPLAY_PAGE_MESSAGES, 600 - 2 * REPLAY_PAGE_MESSAGES]);
  });

  it('stops when the connection ends', async () => {
    const target = recorder();
    const replaying = replayHistory(target, 'g', 0, history(1, 100), 200);
    target.end();
    await replaying;
    expect(target.pages.flat().length).toBeLessThan(100);
  });
});

describe('FanoutDelivery', () => {
  /** A recipient that records what it was handed. */
  const recipient = (receiving: boolean): DeliveryTarget & { frames: OutboundFrame[]; discards: string[] } => {
    const frames: OutboundFrame[] = [];
    const discards: string[] = [];
    return { receiving, frames, discards, deliver: (frame) => void frames.push(frame), discarded: (group) => void discards.push(group) };
  };
  /** Message data that counts how often it is serialised (once per encoding of the event). */
  const counted = (): { data: { toJSON(): string }; encodings: () => number } => {
    let encodings = 0;
    return {
      data: {
        toJSON: () => {
          encodings++;
          return 'x';
        },
      },
      encodings: () => encodings,
    };
  };

  it('skips recipients that take no more frames before encoding anything: an event for none of them is never encoded', () => {
    const stats = new GatewayStats();
    const targets = new Map([
      ['ended1', recipient(false)],
      ['ended2', recipient(false)],
      ['live1', recipient(true)],
      ['live2', recipient(true)],
    ]);
    const fanout = new FanoutDelivery(stats, targets);
    const unread = counted();
    fanout.deliver({ ev: 'message', group: 'g', from: 'a', data: unread.data, offset: 1 }, new Set(['ended1', 'ended2', 'gone']), null, 0);
    expect(unread.encodings()).toBe(0);
    expect(stats.deliveries).toBe(0);

    const read = counted();
    fanout.deliver({ ev: 'message', group: 'g', from: 'a', data: read.data, offset: 2 }, new Set(['ended1', 'live1', 'live2', 'ended2']), null, 0);
    expect(read.encodings()).toBe(1);
    expect(stats.deliveries).toBe(2);
    expect(targets.get('ended1')?.frames).toEqual([]);
    const [first] = targets.get('live1')?.frames ?? [];
    expect(first?.json).toBe('{"ev":"message","group":"g","from":"a","data":"x","offset":2}');
    expect(targets.get('live2')?.frames).toEqual([first]);

    fanout.deliver({ ev: 'discarded', group: 'g', reason: 'admin' }, new Set(['ended1', 'live1']), null, 0);
    expect(targets.get('live1')?.discards).toEqual(['g']);
    expect(targets.get('ended1')?.discards).toEqual([]);
  });
});
