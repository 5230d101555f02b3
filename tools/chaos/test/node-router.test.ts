import { describe, expect, it } from 'vitest';
import { NodeRouter } from '../src/node-router.js';

describe('NodeRouter', () => {
  it('sends a client to its home node, to the next one in rotation while home is out, and home again after', () => {
    const router = new NodeRouter([9001, 9002, 9003]);
    expect(router.pick(1)).toBe(1);
    router.markDown(1);
    expect(router.pick(1)).toBe(2);
    router.markDown(2);
    expect(router.pick(1)).toBe(0);
    router.markUp(1);
    expect(router.pick(1)).toBe(1);
  });

  it('points a connection URL, query included, at the chosen node', () => {
    const router = new NodeRouter([9001, 9002]);
    expect(router.urlFor('ws://127.0.0.1:9001/v1?session=s&resume=r', 1)).toBe('ws://127.0.0.1:9002/v1?session=s&resume=r');
    expect(router.wsUrl(0)).toBe('ws://127.0.0.1:9001/v1');
  });
});
