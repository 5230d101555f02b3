import { describe, expect, it } from 'vitest';
import { ConnectionLog } from '../src/connection-log.js';

/** A log on node 0 whose phase is `phase.value`, and the messages it reported. */
function makeLog(phase = { value: 0 }) {
  const seen: Array<[string, number, unknown]> = [];
  const log = new ConnectionLog(0, () => phase.value, (group, offset, data) => seen.push([group, offset, data]));
  return { log, seen };
}

const message = (group: string, offset: number, data: unknown = { n: offset, c: 1 }) => JSON.stringify({ ev: 'message', group, from: 'x', data, offset });
const joinReply = (group: string, offset: number, already = false) => JSON.stringify({ ref: 1, ok: true, group, members: [], already, offset });

describe('ConnectionLog (the wire tap of the live gap check)', () => {
  it('records no hole for a join followed by every offset, +1 each, and reports each message', () => {
    const { log, seen } = makeLog();
    log.frame(joinReply('g', 5));
    for (let offset = 6; offset <= 9; offset++) log.frame(message('g', offset));
    expect(log.holes).toEqual([]);
    expect(log.last('g')).toBe(9);
    expect(seen.map(([, offset]) => offset)).toEqual([6, 7, 8, 9]);
  });

  it('records a hole where an offset is skipped, with the phase it was seen in, also inside an array frame', () => {
    const phase = { value: 0 };
    const { log } = makeLog(phase);
    log.frame(joinReply('g', 0));
    log.frame(message('g', 1));
    phase.value = 3;
    log.frame(`[${message('g', 2)},${message('g', 5)},${message('g', 6)}]`);
    expect(log.holes).toEqual([{ group: 'g', from: 3, to: 4, phase: 3 }]);
  });

  it('takes a create reply as the start of a new group: a first message 2 leaves offset 1 as a hole', () => {
    const { log } = makeLog();
    log.frame(JSON.stringify({ ref: 1, ok: true, group: 'g', members: [] }));
    log.frame(message('g', 2));
    expect(log.holes).toEqual([{ group: 'g', from: 1, to: 1, phase: 0 }]);
  });

  it('starts a resumed connection at its first message and ignores repeats at or below the position', () => {
    const { log } = makeLog();
    log.frame(message('g', 40));
    log.frame(message('g', 41));
    log.frame(message('g', 39)); // a replay's repeat
    log.frame(message('g', 41));
    log.frame(message('g', 42));
    expect(log.holes).toEqual([]);
    expect(log.last('g')).toBe(42);
  });

  it('starts a resumed connection where its welcome says the replay starts, when it says so', () => {
    const { log } = makeLog();
    log.frame(JSON.stringify({ ev: 'welcome', session: 's', resumeToken: 't', node: 'n', heartbeatMs: 1, resumed: true, groups: [{ group: 'g', epoch: 'e', offset: 40 }] }));
    log.frame(message('g', 42)); // the replay skipped 41
    log.frame(message('g', 43));
    expect(log.holes).toEqual([{ group: 'g', from: 41, to: 41, phase: 0 }]);
  });

  it('does not move the position on a recovery join (already: true), whose replay repeats what was seen', () => {
    const { log } = makeLog();
    log.frame(joinReply('g', 10));
    log.frame(message('g', 12)); // hole at 11
    log.frame(joinReply('g', 12, true));
    log.frame(message('g', 11));
    log.frame(message('g', 13));
    expect(log.holes).toEqual([{ group: 'g', from: 11, to: 11, phase: 0 }]);
  });

  it('keeps groups apart and counts frames that are not JSON', () => {
    const { log } = makeLog();
    log.frame(joinReply('a', 0));
    log.frame(joinReply('b', 7));
    log.frame(message('a', 1));
    log.frame(message('b', 8));
    log.frame('not json');
    expect(log.holes).toEqual([]);
    expect(log.unparsable).toBe(1);
  });
});
