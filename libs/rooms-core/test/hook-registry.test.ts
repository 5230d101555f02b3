import { describe, expect, it } from 'vitest';
import { HookRegistry, RoomsError } from '../src/index.js';
import type { HookContext } from '../src/index.js';

const context: HookContext = { op: 'join', session: 's1', group: 'g', data: { hi: 1 } };

/** Resolves after a few microtask turns, so a hook that is not awaited would let the next one run first. */
async function yieldTurns(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('HookRegistry', () => {
  it('runs before-hooks in registration order, each awaited before the next', async () => {
    const hooks = new HookRegistry();
    const order: string[] = [];
    hooks.before('join', async () => {
      await yieldTurns();
      order.push('first');
    });
    hooks.before('join', () => {
      order.push('second');
    });
    hooks.before('leave', () => {
      order.push('other op');
    });
    await hooks.runBefore(context);
    expect(order).toEqual(['first', 'second']);
  });

  it('runs after-hooks in order with the result', async () => {
    const hooks = new HookRegistry();
    const seen: Array<[string, unknown]> = [];
    hooks.after('join', async (_context, result) => {
      await yieldTurns();
      seen.push(['first', result]);
    });
    hooks.after('join', (_context, result) => {
      seen.push(['second', result]);
    });
    expect(await hooks.runAfter(context, { ok: 1 })).toEqual([]);
    expect(seen).toEqual([
      ['first', { ok: 1 }],
      ['second', { ok: 1 }],
    ]);
  });

  it('stops at a refusing before-hook and rejects with its RoomsError code and message', async () => {
    const hooks = new HookRegistry();
    const ran: string[] = [];
    hooks.before('join', () => {
      throw new RoomsError('FORBIDDEN', 'members only');
    });
    hooks.before('join', () => {
      ran.push('later');
    });
    await expect(hooks.runBefore(context)).rejects.toMatchObject({ code: 'FORBIDDEN', message: 'members only', temporary: false });
    expect(ran).toEqual([]);
  });

  it('turns anything else a before-hook throws into INTERNAL with the original as cause', async () => {
    const hooks = new HookRegistry();
    const boom = new Error('boom');
    hooks.before('join', async () => {
      throw boom;
    });
    const error = await hooks.runBefore(context).then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(RoomsError);
    expect(error).toMatchObject({ code: 'INTERNAL' });
    expect((error as RoomsError).cause).toBe(boom);
  });

  it('collects after-hook errors, runs the remaining hooks and does not throw', async () => {
    const hooks = new HookRegistry();
    const first = new Error('first');
    const ran: string[] = [];
    hooks.after('join', () => {
      throw first;
    });
    hooks.after('join', async () => {
      ran.push('second');
      throw new RoomsError('FORBIDDEN');
    });
    hooks.after('join', () => {
      ran.push('third');
    });
    const errors = await hooks.runAfter(context, {});
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBe(first);
    expect(errors[1]).toMatchObject({ code: 'FORBIDDEN' });
    expect(ran).toEqual(['second', 'third']);
  });

  it('removes a hook with the function its registration returned', async () => {
    const hooks = new HookRegistry();
    const ran: string[] = [];
    const removeBefore = hooks.before('join', () => {
      ran.push('before');
    });
    const removeAfter = hooks.after('join', () => {
      ran.push('after');
    });
    expect(hooks.has('join')).toBe(true);
    removeBefore();
    removeAfter();
    removeBefore();
    expect(hooks.has('join')).toBe(false);
    await hooks.runBefore(context);
    await hooks.runAfter(context, {});
    expect(ran).toEqual([]);
  });

  it('clear removes every hook', async () => {
    const hooks = new HookRegistry();
    hooks.before('create', () => {
      throw new RoomsError('FORBIDDEN');
    });
    hooks.after('leave', () => undefined);
    hooks.clear();
    expect(hooks.has('create')).toBe(false);
    expect(hooks.has('leave')).toBe(false);
    await expect(hooks.runBefore({ ...context, op: 'create' })).resolves.toBeUndefined();
  });
});
