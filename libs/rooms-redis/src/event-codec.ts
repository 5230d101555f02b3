import type { LeaveReason, MemberInfo, ReplicaEvent, SessionId } from '@rooms-kit/core';

/**
 * The wire form of replica events on a group's channel: compact JSON objects shaped exactly like `ReplicaEvent`,
 * written by the Lua scripts (see group-scripts.ts) from pieces this module encodes. Decoding validates every field, so a
 * malformed message is recognised (and dropped by the caller) instead of reaching the kernel.
 */

const LEAVE_REASONS: ReadonlySet<string> = new Set<LeaveReason>(['leave', 'disconnect', 'node-down', 'kicked']);

/**
 * JSON of a member without its id and node, as stored (`<node>\n<this>`, see `GroupKeys.members`): `{"user?","data?"}`,
 * or '' when it has neither. The scripts publish the member as `{"id":…,"node":…` followed by this without its opening
 * brace.
 */
export function encodeMemberRest(member: MemberInfo): string {
  if (member.user === undefined && member.data === undefined) return '';
  const out: Omit<MemberInfo, 'id' | 'node'> = {};
  if (member.user !== undefined) out.user = member.user;
  if (member.data !== undefined) out.data = member.data;
  return JSON.stringify(out);
}

/** JSON of a payload; `undefined` (no payload) becomes `null` where a value is required. */
export function encodeData(data: unknown): string {
  return JSON.stringify(data) ?? 'null';
}

/** JSON of an optional payload: '' when absent (the scripts then omit the field). */
export function encodeOptionalData(data: unknown): string {
  return data === undefined ? '' : (JSON.stringify(data) ?? '');
}

/** Reads member `id` from its stored form `<node>\n<JSON without id and node, or ''>`; null when malformed. */
export function decodeStoredMember(id: string, stored: string): MemberInfo | null {
  const cut = stored.indexOf('\n');
  if (cut < 0) return null;
  const text = stored.slice(cut + 1);
  const rest = text === '' ? {} : parseJson(text);
  return isObject(rest) ? parseMember({ ...rest, id, node: stored.slice(0, cut) }) : null;
}

/** Parses and validates one event of a group channel; null when it is not a well-formed `ReplicaEvent`. */
export function decodeEvent(text: string): ReplicaEvent | null {
  const value = parseJson(text);
  if (!isObject(value) || typeof value.group !== 'string' || !isVersion(value.v)) return null;
  const { group, v } = value;
  switch (value.type) {
    case 'joined': {
      const member = parseMember(value.member);
      if (!member || !isCount(value.size)) return null;
      return { type: 'joined', group, v, member, size: value.size };
    }
    case 'left': {
      const member = parseMember(value.member);
      if (!member || !isCount(value.size) || typeof value.reason !== 'string' || !LEAVE_REASONS.has(value.reason)) return null;
      const event: ReplicaEvent = { type: 'left', group, v, member, reason: value.reason as LeaveReason, size: value.size };
      if ('data' in value && value.data !== undefined) event.data = value.data;
      return event;
    }
    case 'rejoined': {
      const member = parseMember(value.member);
      const previousNode = value.previousNode;
      if (!member || !isCount(value.size) || (previousNode !== null && typeof previousNode !== 'string')) return null;
      return { type: 'rejoined', group, v, member, previousNode, size: value.size };
    }
    case 'message': {
      const from = value.from;
      if ((from !== null && typeof from !== 'string') || !isVersion(value.offset) || typeof value.self !== 'boolean') return null;
      return { type: 'message', group, v, from: from as SessionId | null, data: value.data ?? null, offset: value.offset, self: value.self };
    }
    case 'discarded': {
      if (value.reason !== 'empty' && value.reason !== 'admin') return null;
      return { type: 'discarded', group, v, reason: value.reason };
    }
    default:
      return null;
  }
}

function parseMember(value: unknown): MemberInfo | null {
  if (!isObject(value) || typeof value.id !== 'string' || typeof value.node !== 'string') return null;
  if (value.user !== undefined && typeof value.user !== 'string') return null;
  const member: MemberInfo = { id: value.id, node: value.node };
  if (value.user !== undefined) member.user = value.user;
  if (value.data !== undefined) member.data = value.data;
  return member;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
