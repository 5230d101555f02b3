import { isErrorCode } from '@rooms-kit/contract';
import type { WireError } from '@rooms-kit/contract';
import { DISCARD_REASONS, LEAVE_REASONS } from '../constants.js';
import { ProtocolError } from './protocol-error.js';
import { frameText } from '../text.js';
import type { RawFrame } from '../text.js';
import type { ServerMessage } from '../types.js';

type Obj = Record<string, unknown>;

/**
 * Parses one frame from the server into its messages, in order: a frame holds a single message or an array of
 * them. Each message is an event (`ev`) or a reply (`ok`). Forward compatible: messages with an unknown `ev` are
 * skipped, unknown extra fields are kept; an error code this version does not know becomes `INTERNAL` with the
 * code kept at the start of the message (`"[NEW_CODE] text"`). Throws {@link ProtocolError} when the frame is not
 * JSON. A malformed message (a non-object, a known event or a reply with missing or ill-typed fields) is dropped and
 * handed to `onMalformed` (or, without it, throws): one bad message of a batch does not cost the others.
 */
export function decodeServerFrame(raw: RawFrame, onMalformed?: (error: ProtocolError) => void): ServerMessage[] {
  let value: unknown;
  try {
    value = JSON.parse(frameText(raw));
  } catch (error) {
    throw new ProtocolError('frame is not valid JSON', { cause: error });
  }
  const items = Array.isArray(value) ? value : [value];
  const out: ServerMessage[] = [];
  for (const item of items) {
    let message: ServerMessage | undefined;
    try {
      message = toServerMessage(item);
    } catch (error) {
      if (!onMalformed || !(error instanceof ProtocolError)) throw error;
      onMalformed(error);
      continue;
    }
    if (message !== undefined) out.push(message);
  }
  return out;
}

function toServerMessage(item: unknown): ServerMessage | undefined {
  if (!isObj(item)) throw new ProtocolError('message is not a JSON object');
  if (item.ev !== undefined) {
    if (typeof item.ev !== 'string') throw new ProtocolError('ev: expected string');
    const check = EVENT_CHECKS.get(item.ev);
    if (check === undefined) return undefined;
    check(item);
    return item as unknown as ServerMessage;
  }
  if (typeof item.ok !== 'boolean') throw new ProtocolError('message has neither ev nor ok');
  if (item.ok) {
    if (typeof item.ref !== 'number') throw new ProtocolError('reply ref: expected number');
  } else {
    if (item.ref !== null && typeof item.ref !== 'number') throw new ProtocolError('reply ref: expected number or null');
    item.error = wireError(item.error, 'reply error');
  }
  return item as unknown as ServerMessage;
}

/** Field checks of the events this version knows, by `ev`. A Map, so `__proto__` and friends are just unknown. */
const EVENT_CHECKS: ReadonlyMap<string, (event: Obj) => void> = new Map<string, (event: Obj) => void>([
  [
    'welcome',
    (e) => {
      str(e, 'session');
      str(e, 'resumeToken');
      str(e, 'node');
      if (typeof e.heartbeatMs !== 'number') fail(e, 'heartbeatMs');
      if (typeof e.resumed !== 'boolean') fail(e, 'resumed');
    },
  ],
  ['joined', groupAndMember],
  ['rejoined', groupAndMember],
  [
    'left',
    (e) => {
      groupAndMember(e);
      if (!(LEAVE_REASONS as readonly unknown[]).includes(e.reason)) fail(e, 'reason');
    },
  ],
  [
    'message',
    (e) => {
      str(e, 'group');
      if (e.from !== null && typeof e.from !== 'string') fail(e, 'from');
      if (!('data' in e)) fail(e, 'data');
      if (typeof e.offset !== 'number' || !Number.isSafeInteger(e.offset)) fail(e, 'offset');
    },
  ],
  [
    'discarded',
    (e) => {
      str(e, 'group');
      if (!(DISCARD_REASONS as readonly unknown[]).includes(e.reason)) fail(e, 'reason');
    },
  ],
  [
    'error',
    (e) => {
      e.error = wireError(e.error, 'error event');
    },
  ],
]);

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(event: Obj, field: string): never {
  throw new ProtocolError(`${String(event.ev)} event, ${field}: missing or ill-typed`);
}

function str(e: Obj, field: string): void {
  if (typeof e[field] !== 'string') fail(e, field);
}

function groupAndMember(e: Obj): void {
  str(e, 'group');
  const m = e.member;
  if (!isObj(m) || typeof m.id !== 'string' || typeof m.node !== 'string') fail(e, 'member');
  if (m.user !== undefined && typeof m.user !== 'string') fail(e, 'member.user');
}

function wireError(value: unknown, what: string): WireError {
  if (!isObj(value) || typeof value.code !== 'string' || typeof value.message !== 'string' || typeof value.temporary !== 'boolean') {
    throw new ProtocolError(`${what}: expected {code, message, temporary}`);
  }
  if (isErrorCode(value.code)) return value as unknown as WireError;
  return { code: 'INTERNAL', message: `[${value.code}] ${value.message}`, temporary: value.temporary };
}
