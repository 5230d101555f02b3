import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/index.js';
import { Emitter } from '../src/emitter.js';
import { OffsetTracker } from '../src/offsets.js';
import { OwnBroadcasts } from '../src/own-broadcasts.js';
import { connectionUrl } from '../src/url.js';

describe('backoffDelay', () => {
  const options = { minDelayMs: 100, maxDelayMs: 1000 };

  it('doubles from minDelayMs up to maxDelayMs without jitter', () => {
    expect([0, 1, 2, 3, 4, 10, 1000].map((attempt) => backoffDelay(attempt, options, () => 0))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000,
    ]);
  });

  it('shortens by up to 25% but never below minDelayMs', () => {
    expect(backoffDelay(3, options, () => 0.999)).toBe(600);
    expect(backoffDelay(0, options, () => 0.999)).toBe(100);
    for (let attempt = 0; attempt < 8; attempt++) {
      const delay = backoffDelay(attempt, options);
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });
});

describe('OffsetTracker', () => {
  it('accepts only offsets above the last one, per group', () => {
    const tracker = new OffsetTracker();
    expect([1, 2, 2, 1, 3].map((offset) => tracker.accept('g', offset))).toEqual([true, true, false, false, true]);
    expect(tracker.accept('h', 1)).toBe(true);
    expect(tracker.last('g')).toBe(3);
  });

  it('starts at the join offset, or at since, and keeps a position it already has', () => {
    const tracker = new OffsetTracker();
    tracker.joined('a', 10);
    expect(tracker.last('a')).toBe(10);
    tracker.joined('b', 10, 4);
    expect(tracker.last('b')).toBe(4);
    tracker.joined('c', 3, 9); // since beyond the latest offset: clamp
    expect(tracker.last('c')).toBe(3);
    tracker.accept('a', 12);
    tracker.joined('a', 12, 5); // already tracked further: keep
    expect(tracker.last('a')).toBe(12);
  });

  it('restarts when a join shows the group went back (created anew)', () => {
    const tracker = new OffsetTracker();
    tracker.accept('g', 40);
    tracker.joined('g', 2);
    expect(tracker.last('g')).toBe(2);
    expect(tracker.accept('g', 3)).toBe(true);
  });

  it('forgets, clears and records created groups at 0', () => {
    const tracker = new OffsetTracker();
    tracker.accept('g', 5);
    tracker.forget('g');
    expect(tracker.last('g')).toBeUndefined();
    expect(tracker.accept('g', 1)).toBe(true);
    tracker.created('n');
    expect(tracker.last('n')).toBe(0);
    tracker.clear();
    expect(tracker.last('g')).toBeUndefined();
    expect(tracker.last('n')).toBeUndefined();
  });

  it('counts own offsets as seen and moves the run over them as it reaches them', () => {
    const tracker = new OffsetTracker();
    tracker.own('g', 1); // not tracked: ignored
    tracker.created('g');
    tracker.own('g', 1);
    expect(tracker.last('g')).toBe(1);
    tracker.own('g', 3);
    tracker.own('g', 4);
    tracker.own('g', 2.5); // not an offset: ignored
    expect(tracker.last('g')).toBe(1);
    expect([2, 3, 4, 5].map((offset) => tracker.seen('g', offset))).toEqual([false, true, true, false]);
    expect(tracker.ownAhead('g')).toEqual([3, 4]);
    expect(tracker.accept('g', 3)).toBe(false);
    expect(tracker.accept('g', 2)).toBe(true);
    expect(tracker.last('g')).toBe(4);
    expect(tracker.ownAhead('g')).toEqual([]);
    tracker.own('g', 7);
    expect(tracker.accept('g', 9)).toBe(true); // a jump (a gap given up) passes 7
    expect(tracker.last('g')).toBe(9);
    expect(tracker.ownAhead('g')).toEqual([]);
    tracker.own('g', 11);
    tracker.joined('g', 3); // created anew: the old own offsets mean nothing
    expect(tracker.seen('g', 11)).toBe(false);
    tracker.own('g', 5);
    tracker.forget('g');
    tracker.created('g');
    expect(tracker.seen('g', 5)).toBe(false);
  });
});

describe('Emitter', () => {
  it('calls listeners in order and unsubscribes each subscription separately', () => {
    const emitter = new Emitter<{ tick: number }>();
    const seen: string[] = [];
    const listener = (n: number): void => {
      seen.push(`a${n}`);
    };
    const offA = emitter.on('tick', listener);
    const offB = emitter.on('tick', listener);
    emitter.on('tick', (n) => seen.push(`c${n}`));
    emitter.emit('tick', 1);
    offA();
    offA();
    emitter.emit('tick', 2);
    offB();
    emitter.emit('tick', 3);
    expect(seen).toEqual(['a1', 'a1', 'c1', 'a2', 'c2', 'c3']);
    expect(emitter.listenerCount('tick')).toBe(1);
  });

  it('keeps calling listeners after one throws, and rethrows asynchronously', async () => {
    const emitter = new Emitter<{ tick: number }>();
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw new Error('listener failed');
    });
    emitter.on('tick', (n) => seen.push(n));
    const thrown = new Promise<unknown>((resolve) => {
      const original = globalThis.queueMicrotask;
      globalThis.queueMicrotask = (callback) => {
        globalThis.queueMicrotask = original;
        try {
          callback();
        } catch (error) {
          resolve(error);
        }
      };
    });
    emitter.emit('tick', 7);
    expect(seen).toEqual([7]);
    expect(await thrown).toMatchObject({ message: 'listener failed' });
  });
});

describe('connectionUrl', () => {
  it('adds /v1 when there is no path, maps http(s) to ws(s) and sets parameters', () => {
    expect(connectionUrl('ws://h:1', {})).toBe('ws://h:1/v1');
    expect(connectionUrl('https://h/', { token: 'a b&c' })).toBe('wss://h/v1?token=a+b%26c');
    expect(connectionUrl('ws://h/custom/v1?x=1', { session: 's', resume: undefined })).toBe('ws://h/custom/v1?x=1&session=s');
  });

  it('throws for something that is not a URL', () => {
    expect(() => connectionUrl('nope', {})).toThrow(TypeError);
  });
});

describe('OwnBroadcasts.claim', () => {
  /** Broadcasts to `g` cut by a drop (no reply), in this order: their messages may still come in a replay. */
  function cut(...sent: [self: boolean, data: unknown][]): OwnBroadcasts {
    const own = new OwnBroadcasts();
    for (const [self, data] of sent) own.settle('g', own.begin('g', self, data), undefined, true, 0);
    return own;
  }

  it('takes the first broadcast that may have the offset, in the order sent', () => {
    const own = cut([false, 'a'], [true, 'b'], [true, 'c']);
    expect(own.claim('g', 1, 'a')).toBe(false);
    expect(own.claim('g', 2, 'b')).toBe(true);
    expect(own.claim('g', 3, 'c')).toBe(true);
    expect(own.claim('g', 4, 'x')).toBe(false); // nothing left that may have it: not delivered
  });

  it('between broadcasts with and without self, the same data decides, else the order', () => {
    expect(cut([false, 'a'], [true, 'b']).claim('g', 1, 'b')).toBe(true);
    expect(cut([true, 'b'], [false, 'a']).claim('g', 1, 'a')).toBe(false);
    expect(cut([false, 'same'], [true, 'same']).claim('g', 1, 'same')).toBe(false);
  });

  it('a self:true broadcast with a known offset is its offset\'s, and bounds the offsets of those sent before it', () => {
    const own = cut([true, 'a']);
    own.settle('g', own.begin('g', true, 'b'), 5, false, 0);
    expect(own.claim('g', 5, 'b')).toBe(true);
    expect(own.claim('g', 6, 'a')).toBe(false); // a had an offset below 5: it was never published
  });

  it('a broadcast without self still waiting for its reply is never a replayed message\'s', () => {
    const own = new OwnBroadcasts();
    const id = own.begin('g', false, 'a');
    expect(own.claim('g', 1, 'a')).toBe(false);
    expect(own.oldest('g')).toBe(id);
    expect(own.settle('g', id, 2, false, 0)).toBe(true);
    expect(own.oldest('g')).toBeUndefined();
  });
});
