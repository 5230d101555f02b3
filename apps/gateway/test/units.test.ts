import { describe, expect, it } from 'vitest';
import { OutboundFrame } from '../src/outbound-frame.js';
import { OutboundQueue } from '../src/outbound-queue.js';
import { RateLimiter } from '../src/rate-limiter.js';
import { MAX_VIOLATIONS, ViolationCounter } from '../src/violation-counter.js';
import { encodeTextFrame } from '../src/ws-frame.js';
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

  it('is off at rate 0', () => {
    const limiter = new RateLimiter(0, () => 0);
    for (let i = 0; i < 1000; i++) expect(limiter.take()).toBe('allow');
  });
});

describe('ViolationCounter', () => {
  it('says "too many" at the 21st invalid request within 10 s, not before', () => {
    const now = 0;
    const counter = new ViolationCounter(() => now);
    for (let i = 0; i < MAX_VIOLATIONS; i++) expect(counter.record()).toBe(false);
    expect(counter.record()).toBe(true);
  });

  it('forgets violations older than 10 s', () => {
    let now = 0;
    const counter = new ViolationCounter(() => now);
    for (let i = 0; i < MAX_VIOLATIONS; i++) counter.record();
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
    const queue = new OutboundQueue();
    queue.push(message('g', 1));
    queue.push(message('g', 2));
    expect(queue.bytes).toBeGreaterThan(0);
    queue.writeTo(sink);
    expect(queue.isEmpty).toBe(true);
    expect(queue.bytes).toBe(0);
    expect(Buffer.concat(written).toString()).toContain('{"offset":1}');
    expect(Buffer.concat(written).toString().indexOf('{"offset":1}')).toBeLessThan(Buffer.concat(written).toString().indexOf('{"offset":2}'));
  });

  it('releases held frames as one array frame, reusing an identical batch', () => {
    const a = new OutboundQueue();
    const b = new OutboundQueue();
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

  it('reports the lowest unwritten offset per group, batches included', () => {
    const queue = new OutboundQueue();
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
