import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JoinResult, MessageEvent } from '@rooms-kit/protocol/client';
import type { RoomsClientError } from '../src/index.js';
import { MessageSequencer } from '../src/message-sequencer.js';
import { OffsetTracker } from '../src/offsets.js';

// The sequencer against every order the gateway may produce for one member of a group: messages of the other members
// come in offset order; the member's own broadcasts (without `self`) are sent in order, each before any message with
// a higher offset reaches it (the server published it first), and their replies come in order, anywhere among the
// messages (a Redis node gets its publish's reply and the other nodes' events on two connections; a group with an
// `interval` holds events but never replies).

/** Offsets 1..n, each the member's own (true) or another member's (false), and how replies and messages interleave. */
const schedule = fc.record({
  owners: fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
  replyFirst: fc.array(fc.boolean(), { maxLength: 80 }),
});

/** One member's sequencer, and what it did. */
interface Run {
  sequencer: MessageSequencer;
  offsets: OffsetTracker;
  delivered: number[];
  /** The `since` of each replay asked for. */
  recoveries: number[];
  gaps: RoomsClientError[];
  /** Hands the sequencer the message of `offset`. */
  receive(offset: number, from?: string, data?: unknown): void;
}

function start(): Run {
  const offsets = new OffsetTracker();
  offsets.created('g');
  const delivered: number[] = [];
  const recoveries: number[] = [];
  const gaps: RoomsClientError[] = [];
  const recovered: JoinResult = { group: 'g', members: [], already: true, offset: 0, recovered: true };
  const sequencer = new MessageSequencer(
    offsets,
    {
      deliver: (message) => delivered.push(message.offset),
      recover: (_group, since) => {
        recoveries.push(since);
        return Promise.resolve(recovered);
      },
      gap: (error) => gaps.push(error),
    },
    { holdMs: 3_600_000, maxHeld: 10_000 },
  );
  sequencer.connected(true, 'me');
  const receive = (offset: number, from = 'other', data: unknown = null): void => {
    const message: MessageEvent = { ev: 'message', group: 'g', from, data, offset };
    sequencer.receive(message);
  };
  return { sequencer, offsets, delivered, recoveries, gaps, receive };
}

/**
 * Plays one schedule: `lost` offsets of other members never arrive. Returns the run, the other members' offsets, and
 * the own ones.
 */
function play(owners: boolean[], replyFirst: boolean[], lost: ReadonlySet<number> = new Set()): { run: Run; others: number[]; own: number[] } {
  const run = start();
  const others = owners.flatMap((own, i) => (own ? [] : [i + 1]));
  const own = owners.flatMap((mine, i) => (mine ? [i + 1] : []));
  const settle = new Map<number, (offset: number | undefined) => void>();
  const send = (upTo: number): void => {
    for (const offset of own) if (offset <= upTo && !settle.has(offset)) settle.set(offset, run.sequencer.ownBroadcast('g'));
  };
  let nextMessage = 0;
  let nextReply = 0;
  for (let step = 0; nextMessage < others.length || nextReply < own.length; step++) {
    const reply = nextMessage >= others.length || (nextReply < own.length && replyFirst[step] === true);
    if (reply) {
      const offset = own[nextReply++] as number;
      send(offset);
      settle.get(offset)?.(offset);
    } else {
      const offset = others[nextMessage++] as number;
      send(offset - 1);
      if (!lost.has(offset)) run.receive(offset);
    }
  }
  return { run, others, own };
}

describe('own broadcasts in every order (property)', () => {
  it('a member gets every other member\'s message once, in order, never its own, and never asks for a replay', () => {
    fc.assert(
      fc.property(schedule, ({ owners, replyFirst }) => {
        const { run, others } = play(owners, replyFirst);
        try {
          expect(run.delivered).toEqual(others);
          expect(run.recoveries).toEqual([]);
          expect(run.gaps).toEqual([]);
          expect(run.offsets.last('g')).toBe(owners.length);
        } finally {
          run.sequencer.close();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('with messages lost in flight: exactly one replay is asked, from before the first loss, and fills it without own messages', () => {
    const withLosses = schedule.chain(({ owners, replyFirst }) => {
      const others = owners.flatMap((own, i) => (own ? [] : [i + 1]));
      return fc.record({
        owners: fc.constant(owners),
        replyFirst: fc.constant(replyFirst),
        lost: others.length === 0 ? fc.constant<number[]>([]) : fc.subarray(others, { minLength: 1 }),
      });
    });
    fc.assert(
      fc.property(withLosses, ({ owners, replyFirst, lost }) => {
        fc.pre(lost.length > 0);
        const { run, others } = play(owners, replyFirst, new Set(lost));
        try {
          const n = owners.length;
          run.receive(n + 1); // a later live message: the loss is seen by now whatever it was
          expect(run.recoveries).toHaveLength(1);
          const since = run.recoveries[0] as number;
          expect(since).toBeLessThan(Math.min(...lost));
          for (let offset = since + 1; offset <= n; offset++) run.receive(offset, owners[offset - 1] === true ? 'me' : 'other'); // the replay
          expect(run.delivered).toEqual([...others, n + 1]);
          expect(run.gaps).toEqual([]);
          expect(run.recoveries).toHaveLength(1);
          expect(run.offsets.last('g')).toBe(n + 1);
        } finally {
          run.sequencer.close();
        }
      }),
      { numRuns: 500 },
    );
  });

  // The node holding the session dies: replies are lost, the connection drops, and the resumed session gets a replay
  // of the group carrying its own broadcasts (with its own session id as `from`) among the others' messages.
  it('after a drop, a replay with own broadcasts delivers each self:true one and every other member\'s message once, in order, and no other own one', () => {
    const broadcast = fc.record({
      kind: fc.constantFrom('other', 'quiet', 'self'),
      /** An own broadcast the server never ran (the connection died first): it takes no offset. */
      published: fc.boolean(),
      /** Its reply (or a refusal, when not published) reached the client before the drop. */
      answered: fc.boolean(),
      /** Its message (another member's, or a self:true one's event) was lost in flight before the drop. */
      lost: fc.boolean(),
      replyFirst: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(broadcast, { minLength: 1, maxLength: 30 }), (items) => {
        const run = start();
        /** The group's messages as published, and whether the member's application is to get each. */
        const log: { offset: number; from: string; data: string; due: boolean }[] = [];
        const unanswered: ((offset: number | undefined, unanswered?: boolean) => void)[] = [];
        try {
          items.forEach(({ kind, published, answered, lost, replyFirst }, i) => {
            const data = `b${i}`;
            if (kind === 'other') {
              log.push({ offset: log.length + 1, from: 'other', data, due: true });
              if (!lost) run.receive(log.length, 'other', data);
              return;
            }
            const settle = run.sequencer.ownBroadcast('g', kind === 'self', data);
            if (!published) {
              if (answered) settle(undefined, false); // refused
              else unanswered.push(settle);
              return;
            }
            const offset = log.length + 1;
            log.push({ offset, from: 'me', data, due: kind === 'self' });
            if (answered && replyFirst) settle(offset);
            if (kind === 'self' && !lost) run.receive(offset, 'me', data);
            if (answered && !replyFirst) settle(offset);
            if (!answered) unanswered.push(settle);
          });
          run.sequencer.disconnected();
          for (const settle of unanswered) settle(undefined, true);
          run.sequencer.connected(true, 'me');
          for (const { offset, from, data } of log) run.receive(offset, from, data); // the replay
          run.receive(log.length + 1, 'other', 'live');
          expect(run.delivered).toEqual([...log.filter(({ due }) => due).map(({ offset }) => offset), log.length + 1]);
          expect(run.gaps).toEqual([]);
          expect(run.offsets.last('g')).toBe(log.length + 1);
        } finally {
          run.sequencer.close();
        }
      }),
      { numRuns: 500 },
    );
  });
});

