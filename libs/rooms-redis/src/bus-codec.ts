import { isErrorCode } from '@rooms-kit/core';
import type { ErrorCode, NodeId } from '@rooms-kit/core';

/**
 * A message on a node's control channel (`rooms:node:<id>:ctl`): a request of the cluster bus (`req`, from node
 * `from`, numbered by its sender), or the reply to one (`rep`, with the request's number) carrying the handler's answer
 * or the code and message of its error. `body` is absent when the value was `undefined`.
 */
export type BusEnvelope =
  | { t: 'req'; id: number; from: NodeId; body?: unknown }
  | { t: 'rep'; id: number; ok: true; body?: unknown }
  | { t: 'rep'; id: number; ok: false; error: { code: ErrorCode; message: string } };

/** JSON of an envelope; throws a `TypeError` for a body JSON cannot carry. */
export function encodeEnvelope(envelope: BusEnvelope): string {
  return JSON.stringify(envelope);
}

/** Parses and validates an envelope; null when `text` is not one. */
export function decodeEnvelope(text: string): BusEnvelope | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  if (!Number.isSafeInteger(v.id) || (v.id as number) < 0) return null;
  const id = v.id as number;
  if (v.t === 'req') {
    if (typeof v.from !== 'string') return null;
    return 'body' in v ? { t: 'req', id, from: v.from, body: v.body } : { t: 'req', id, from: v.from };
  }
  if (v.t !== 'rep') return null;
  if (v.ok === true) return 'body' in v ? { t: 'rep', id, ok: true, body: v.body } : { t: 'rep', id, ok: true };
  const error = v.error as { code?: unknown; message?: unknown } | null | undefined;
  if (v.ok !== false || typeof error !== 'object' || error === null || !isErrorCode(error.code) || typeof error.message !== 'string') return null;
  return { t: 'rep', id, ok: false, error: { code: error.code, message: error.message } };
}
