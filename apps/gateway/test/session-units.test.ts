import { describe, expect, it } from 'vitest';
import { RequestQueue } from '../src/session/request-queue.js';
import type { RequestQueueOwner } from '../src/session/request-queue.js';
import { holdsSession, isLive, nextPhase } from '../src/session/session-lifecycle.js';
import type { LifecycleEvent, SessionPhase } from '../src/session/session-lifecycle.js';
import { SessionRegistry } from '../src/session/session-registry.js';
import type { RegisteredSession, SessionEndReason } from '../src/session/session-registry.js';
import { OutboundFrame } from '../src/transports/outbound-frame.js';
import type { WireEncoding } from '../src/transports/transport.js';
import { WEBSOCKET_ENCODING } from '../src/transports/websocket/ws-frame.js';

describe('session lifecycle', () => {
  const walk = (from: SessionPhase, events: LifecycleEvent[]): SessionPhase[] => {
    const phases: SessionPhase[] = [];
    let phase = from;
    for (const event of events) phases.push((phase = nextPhase(phase, event)));
    return phases;
  };
  const ALL: SessionPhase[] = [
    'accepted',
    'handshaking',
    'welcoming',
    'open',
    'abandoned-suspend',
    'abandoned-end',
    'abandoned-forget',
    'abandoned-held-suspend',
    'abandoned-held-end',
    'abandoned-held-forget',
    'suspending',
    'ending',
    'settled',
  ];

  it('goes handshaking, welcoming, open, then suspending or ending by the fate, settled', () => {
    expect(walk('accepted', ['begin', 'hold', 'handshake-done', 'suspend', 'settle-done'])).toEqual(['handshaking', 'welcoming', 'open', 'suspending', 'settled']);
    expect(walk('open', ['end', 'settle-done'])).toEqual(['ending', 'settled']);
    // Nothing to tell the kernel.
    expect(walk('open', ['forget'])).toEqual(['settled']);
  });

  it('settles a connection that ended mid-handshake only once the handshake is over, by the fate it ended with', () => {
    expect(walk('handshaking', ['suspend', 'hold', 'handshake-done', 'settle-done'])).toEqual(['abandoned-suspend', 'abandoned-held-suspend', 'suspending', 'settled']);
    expect(walk('handshaking', ['end', 'hold', 'handshake-done'])).toEqual(['abandoned-end', 'abandoned-held-end', 'ending']);
    expect(walk('handshaking', ['forget', 'hold', 'handshake-done'])).toEqual(['abandoned-forget', 'abandoned-held-forget', 'settled']);
    expect(walk('welcoming', ['suspend', 'handshake-done'])).toEqual(['abandoned-held-suspend', 'suspending']);
    // Never held: nothing to settle.
    expect(walk('handshaking', ['suspend', 'handshake-done'])).toEqual(['abandoned-suspend', 'settled']);
    expect(walk('accepted', ['suspend'])).toEqual(['settled']);
  });

  it("the kernel's taken/kicked leave the session to the kernel, whenever they come", () => {
    expect(nextPhase('open', 'taken')).toBe('settled');
    expect(nextPhase('open', 'kicked')).toBe('settled');
    expect(walk('welcoming', ['taken', 'handshake-done'])).toEqual(['abandoned-held-forget', 'settled']);
    // After the connection ended: what it ended with no longer counts.
    expect(walk('abandoned-held-suspend', ['kicked', 'handshake-done'])).toEqual(['abandoned-held-forget', 'settled']);
    expect(walk('abandoned-held-end', ['taken', 'handshake-done'])).toEqual(['abandoned-held-forget', 'settled']);
    expect(nextPhase('suspending', 'taken')).toBe('settled');
    expect(nextPhase('ending', 'kicked')).toBe('settled');
    // Not held: the kernel's ends are not this connection's.
    expect(nextPhase('handshaking', 'taken')).toBe('handshaking');
    expect(nextPhase('abandoned-suspend', 'kicked')).toBe('abandoned-suspend');
  });

  it('ignores events a phase does not take (a second end, a hold after the handshake)', () => {
    expect(nextPhase('suspending', 'end')).toBe('suspending');
    expect(nextPhase('ending', 'forget')).toBe('ending');
    expect(nextPhase('abandoned-held-suspend', 'end')).toBe('abandoned-held-suspend');
    expect(nextPhase('abandoned-end', 'suspend')).toBe('abandoned-end');
    expect(nextPhase('settled', 'end')).toBe('settled');
    expect(nextPhase('settled', 'taken')).toBe('settled');
    expect(nextPhase('open', 'hold')).toBe('open');
    expect(nextPhase('open', 'begin')).toBe('open');
  });

  it('says which phases hold the session with the kernel, and which are live', () => {
    expect(ALL.filter(holdsSession)).toEqual(['welcoming', 'open', 'abandoned-held-suspend', 'abandoned-held-end', 'abandoned-held-forget', 'suspending', 'ending']);
    expect(ALL.filter(isLive)).toEqual(['accepted', 'handshaking', 'welcoming', 'open']);
  });

  it('every phase but settled can reach settled', () => {
    const events: LifecycleEvent[] = ['begin', 'hold', 'handshake-done', 'suspend', 'end', 'forget', 'taken', 'kicked', 'settle-done'];
    for (const start of ALL) {
      const seen = new Set<SessionPhase>([start]);
      const frontier = [start];
      while (frontier.length > 0) {
        const phase = frontier.pop() as SessionPhase;
        for (const event of events) {
          const next = nextPhase(phase, event);
          if (!seen.has(next)) {
            seen.add(next);
            frontier.push(next);
          }
        }
      }
      expect(seen.has('settled'), start).toBe(true);
    }
  });
});

describe('SessionRegistry', () => {
  interface Fake extends RegisteredSession<Fake> {
    name: string;
    holding: boolean;
    ends: SessionEndReason[];
  }
  const fake = (name: string, holding: boolean): Fake => {
    const session: Fake = { name, holding, displaced: null, ends: [], sessionEnded: (reason) => session.ends.push(reason) };
    return session;
  };

  it('routes an id to its session until released', () => {
    const registry = new SessionRegistry<Fake>();
    const a = fake('a', true);
    registry.claim('s', a);
    expect(registry.get('s')).toBe(a);
    registry.sessionEnded('s', 'kicked');
    expect(a.ends).toEqual(['kicked']);
    registry.release('s', a);
    expect(registry.get('s')).toBeUndefined();
    expect(registry.size).toBe(0);
  });

  it('a resume takes the id at once; the displaced holder gets the kernel\'s ends until the resume holds', () => {
    const registry = new SessionRegistry<Fake>();
    const a = fake('a', true);
    const b = fake('b', false);
    registry.claim('s', a);
    registry.claim('s', b);
    expect(registry.get('s')).toBe(b);
    registry.sessionEnded('s', 'taken');
    expect(a.ends).toEqual(['taken']);
    expect(b.ends).toEqual([]);
    // a, taken over, is released while b is registered: it is unlinked, b keeps the id.
    registry.release('s', a);
    expect(b.displaced).toBeNull();
    expect(registry.get('s')).toBe(b);
    b.holding = true;
    registry.held(b);
    registry.sessionEnded('s', 'kicked');
    expect(b.ends).toEqual(['kicked']);
  });

  it('a resume that fails gives the id back to the session it displaced', () => {
    const registry = new SessionRegistry<Fake>();
    const a = fake('a', true);
    const b = fake('b', false);
    const c = fake('c', false);
    registry.claim('s', a);
    registry.claim('s', b);
    registry.claim('s', c);
    registry.sessionEnded('s', 'taken');
    expect(a.ends).toEqual(['taken']);
    registry.release('s', c);
    expect(registry.get('s')).toBe(b);
    registry.release('s', b);
    expect(registry.get('s')).toBe(a);
    registry.sessionEnded('s', 'kicked');
    expect(a.ends).toEqual(['taken', 'kicked']);
  });

  it('once the resume holds, the one it displaced no longer comes back', () => {
    const registry = new SessionRegistry<Fake>();
    const a = fake('a', true);
    const b = fake('b', true);
    registry.claim('s', a);
    registry.claim('s', b);
    registry.held(b);
    registry.release('s', b);
    expect(registry.get('s')).toBeUndefined();
  });
});

describe('RequestQueue', () => {
  const owner = (): RequestQueueOwner & { calls: string[]; ended: boolean; drains: number } => {
    const calls: string[] = [];
    const host = {
      calls,
      ended: false,
      drains: 0,
      pauseReading: () => calls.push('pause'),
      resumeReading: () => calls.push('resume'),
      taskFailed: (error: unknown) => calls.push(`failed: ${(error as Error).message}`),
      drained: () => void host.drains++,
    };
    return host;
  };
  const gate = (): { promise: Promise<void>; open(): void } => {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    return { promise, open };
  };
  const drained = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('runs tasks one at a time in arrival order; a task that throws does not stop the next', async () => {
    const host = owner();
    const queue = new RequestQueue(host);
    const ran: string[] = [];
    const first = gate();
    queue.enqueue(async () => {
      ran.push('1 start');
      await first.promise;
      ran.push('1 end');
    });
    queue.enqueue(() => {
      ran.push('2');
      throw new Error('boom');
    });
    queue.enqueue(() => void ran.push('3'));
    await drained();
    expect(ran).toEqual(['1 start']);
    expect(host.drains).toBe(0);
    first.open();
    await drained();
    expect(ran).toEqual(['1 start', '1 end', '2', '3']);
    expect(host.calls).toEqual(['failed: boom']);
    // Told once, when the last task is done; a later task runs again.
    expect(host.drains).toBe(1);
    queue.enqueue(() => void ran.push('4'));
    await drained();
    expect(ran.at(-1)).toBe('4');
    expect(host.drains).toBe(2);
  });

  it('pauses reading while more than 256 wait, and resumes below 64', async () => {
    const host = owner();
    const queue = new RequestQueue(host);
    const first = gate();
    let done = 0;
    queue.enqueue(() => first.promise);
    for (let i = 0; i < 256; i++) queue.enqueue(() => void done++);
    expect(host.calls).toEqual([]);
    queue.enqueue(() => void done++);
    expect(host.calls).toEqual(['pause']);
    first.open();
    await drained();
    expect(done).toBe(257);
    expect(host.calls).toEqual(['pause', 'resume']);
  });

  it('stops running once the session ended, resuming reading if it was paused', async () => {
    const host = owner();
    const queue = new RequestQueue(host);
    const first = gate();
    let ran = 0;
    queue.enqueue(() => first.promise);
    for (let i = 0; i < 300; i++) queue.enqueue(() => void ran++);
    host.ended = true;
    queue.stop();
    expect(host.calls).toEqual(['pause', 'resume']);
    first.open();
    await drained();
    expect(ran).toBe(0);
    expect(host.calls).toEqual(['pause', 'resume']);
    expect(host.drains).toBe(1);
  });
});

describe('OutboundFrame', () => {
  it('builds its bytes once per wire encoding and shares them', () => {
    let built = 0;
    const plain: WireEncoding = {
      kind: 'websocket',
      encode: (json) => {
        built++;
        return Buffer.from(json);
      },
    };
    const frame = new OutboundFrame('{"ev":"x"}');
    const ws = frame.encoded(WEBSOCKET_ENCODING);
    expect(frame.encoded(WEBSOCKET_ENCODING)).toBe(ws);
    expect(ws[0]).toBe(0x81);
    const other = frame.encoded(plain);
    expect(frame.encoded(plain)).toBe(other);
    expect(other.toString()).toBe('{"ev":"x"}');
    expect(built).toBe(1);
    expect(frame.encoded(WEBSOCKET_ENCODING)).toBe(ws);
  });
});
