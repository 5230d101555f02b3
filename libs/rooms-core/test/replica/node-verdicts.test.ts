import { describe, expect, it } from 'vitest';
import { MAX_NODE_VERDICTS, NodeVerdicts } from '../../src/replica/node-verdicts.js';

describe('NodeVerdicts', () => {
  it('a node is down once reported and while not live again; a node never reported is not down', () => {
    const verdicts = new NodeVerdicts();
    const none = new Set<string>();
    expect(verdicts.isDown('never-seen', none)).toBe(false);
    verdicts.reportDown('b');
    expect(verdicts.isDown('b', none)).toBe(true);
    // A stalled node that beats again is live: not down.
    expect(verdicts.isDown('b', new Set(['b']))).toBe(false);
  });

  it(`keeps the latest ${MAX_NODE_VERDICTS} verdicts`, () => {
    const verdicts = new NodeVerdicts();
    const none = new Set<string>();
    for (let i = 0; i <= MAX_NODE_VERDICTS; i++) verdicts.reportDown(`n${i}`);
    expect(verdicts.isDown('n0', none)).toBe(false);
    expect(verdicts.isDown('n1', none)).toBe(true);
    expect(verdicts.isDown(`n${MAX_NODE_VERDICTS}`, none)).toBe(true);
  });
});
