import { RoomsError } from '@rooms-kit/contract';
import type { GroupId, SessionId } from './types.js';

/** The operations hooks can watch. */
export type HookOp = 'create' | 'join' | 'leave' | 'broadcast' | 'members' | 'group';

/** What a hook sees of a request. `session` is null for server-side calls (announce, embedding API). */
export interface HookContext {
  op: HookOp;
  session: SessionId | null;
  group: GroupId;
  /** The request's payload (`data` of create/join/leave/broadcast), if any. */
  data?: unknown;
}

/**
 * A before-hook: resolves to let the operation go on, throws (or rejects) a `RoomsError` to refuse it with that
 * code and message (e.g. `new RoomsError('FORBIDDEN', 'members only')`). Anything else thrown refuses with INTERNAL.
 */
export type BeforeHook = (context: HookContext) => void | Promise<void>;
/** An after-hook: sees the operation's result once it succeeded. What it throws is logged, never undoes the op. */
export type AfterHook = (context: HookContext, result: unknown) => void | Promise<void>;

/**
 * HookRegistry: before/after hooks per operation, run in registration order and awaited one after the other.
 * A refusal by a before-hook stops the chain and the operation, before anything changed.
 */
export class HookRegistry {
  private readonly beforeHooks = new Map<HookOp, BeforeHook[]>();
  private readonly afterHooks = new Map<HookOp, AfterHook[]>();

  /** Adds a before-hook for `op`; returns a function that removes it. */
  before(op: HookOp, hook: BeforeHook): () => void {
    return add(this.beforeHooks, op, hook);
  }

  /** Adds an after-hook for `op`; returns a function that removes it. */
  after(op: HookOp, hook: AfterHook): () => void {
    return add(this.afterHooks, op, hook);
  }

  /** True when `op` has any hook (lets the hot path skip the awaits entirely). */
  has(op: HookOp): boolean {
    return (this.beforeHooks.get(op)?.length ?? 0) + (this.afterHooks.get(op)?.length ?? 0) > 0;
  }

  /** Runs the before-hooks of `context.op` in order; rejects with the refusing hook's `RoomsError`. */
  async runBefore(context: HookContext): Promise<void> {
    const hooks = this.beforeHooks.get(context.op);
    if (!hooks) return;
    for (const hook of [...hooks]) {
      try {
        await hook(context);
      } catch (error) {
        if (error instanceof RoomsError) throw error;
        throw new RoomsError('INTERNAL', `before-${context.op} hook failed`, { cause: error });
      }
    }
  }

  /** Runs the after-hooks of `context.op` in order; returns the errors they threw (for the caller to log). */
  async runAfter(context: HookContext, result: unknown): Promise<unknown[]> {
    const hooks = this.afterHooks.get(context.op);
    if (!hooks) return [];
    const errors: unknown[] = [];
    for (const hook of [...hooks]) {
      try {
        await hook(context, result);
      } catch (error) {
        errors.push(error);
      }
    }
    return errors;
  }

  /** Removes every hook. */
  clear(): void {
    this.beforeHooks.clear();
    this.afterHooks.clear();
  }
}

function add<T>(map: Map<HookOp, T[]>, op: HookOp, hook: T): () => void {
  const list = map.get(op) ?? [];
  list.push(hook);
  map.set(op, list);
  return () => {
    const index = list.indexOf(hook);
    if (index >= 0) list.splice(index, 1);
  };
}
