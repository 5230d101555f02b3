import { MAX_PAYLOAD_DEPTH } from '@rooms-kit/contract';

// Linear scans of JSON text that read its structure without parsing it: no recursion, no value built, so text
// nested 100,000 levels deep costs one pass and cannot overflow anything. Only brackets outside strings count; the
// text need not be valid JSON (for valid JSON the counts are exact, for anything else `JSON.parse` decides later).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const MINUS = 0x2d;

/**
 * The index of the first `{` or `[` of `text` that opens a level deeper than `limit` (the outermost bracket is level
 * 1), or -1 when nothing nests deeper. So `firstPastDepth(JSON.stringify(v), n) >= 0` says what
 * `exceedsPayloadDepth(v, n)` of `@rooms-kit/contract` says, without `v`. One pass; strings are skipped by `indexOf`.
 */
export function firstPastDepth(text: string, limit: number): number {
  if (!hasOpenings(text, limit + 1)) return -1;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i) - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return i;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return -1;
}

/**
 * True when the JSON text `text` nests arrays and objects deeper than `limit` levels (default `MAX_PAYLOAD_DEPTH`,
 * 32): what `exceedsPayloadDepth` of `@rooms-kit/contract` says of the parsed value, decided before parsing (for a
 * body that is one payload). Text that is not JSON may give either answer. What `decodeRequest` uses, by way of
 * `firstPastDepth`; the tests hold it against the contract's check.
 */
export function textExceedsPayloadDepth(text: string, limit: number = MAX_PAYLOAD_DEPTH): boolean {
  return firstPastDepth(text, limit) >= 0;
}

/**
 * Whether `text` holds at least `count` of `{` and `[` (in strings or not): fewer cannot nest `count` deep. Counted
 * with `indexOf`, a native search, so a typical frame with a few brackets is cleared in a few calls; it stops at
 * `count`, so a frame with many brackets costs at most `count` calls more than the scan that follows.
 */
function hasOpenings(text: string, count: number): boolean {
  let found = 0;
  for (let at = text.indexOf('{'); at >= 0; at = text.indexOf('{', at + 1)) if (++found >= count) return true;
  for (let at = text.indexOf('['); at >= 0; at = text.indexOf('[', at + 1)) if (++found >= count) return true;
  return false;
}

/** What {@link scanTopLevel} read of a JSON object's text. */
export interface TopLevel {
  /** The first top-level `ref` when it is a safe integer; null when absent or anything else. */
  ref: number | null;
  /** The key of the top-level field whose value holds the scan's `position`, or null (none, or not an object). */
  field: string | null;
}

/**
 * Reads a JSON object's top level without parsing it: its first `ref` (what the reply to a refused frame carries),
 * and the key of the field whose value spans `position` (-1: none wanted). Stops once it has both. One pass, no
 * recursion; a text that is no object gives `{ref: null, field: null}`. On a duplicated `ref` this keeps the first
 * where `JSON.parse` keeps the last: only refusals use it, and no client sends two.
 */
export function scanTopLevel(text: string, position: number): TopLevel {
  const result: TopLevel = { ref: null, field: null };
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return result;
  let refSeen = false;
  let fieldSeen = position < 0;
  let depth = 1;
  let key: string | null = null;
  const length = text.length;
  for (i++; i < length && depth > 0; i++) {
    if (!fieldSeen && i >= position) {
      // `position` is in (or opens) a top-level value, so the last top-level key read is that value's key.
      fieldSeen = true;
      result.field = key;
      if (refSeen) return result;
    }
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1) {
        const colon = skipSpace(text, end);
        if (text.charCodeAt(colon) === COLON) {
          key = stringValue(text, i, end);
          if (key === 'ref' && !refSeen) {
            refSeen = true;
            result.ref = integerAt(text, skipSpace(text, colon + 1));
            if (fieldSeen) return result;
          }
        }
      }
      i = end - 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return result;
}

/** The index just past the string whose opening quote is at `start` (the text's length when it never ends). */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) return text.length;
    // An odd run of backslashes escapes the quote. Runs between quotes are disjoint, so this stays linear.
    let backslashes = 0;
    for (let k = quote - 1; k > start && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if ((backslashes & 1) === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The value of the JSON string `text[start, end)` (quotes included); null when it is not a valid string. */
function stringValue(text: string, start: number, end: number): string | null {
  const inner = text.slice(start + 1, end - 1);
  if (!inner.includes('\\')) return inner;
  try {
    return JSON.parse(text.slice(start, end)) as string;
  } catch {
    return null;
  }
}

/** The safe integer written as a JSON number at `at` (ending at a delimiter), or null. */
function integerAt(text: string, at: number): number | null {
  const first = text.charCodeAt(at);
  if (first !== MINUS && !(first >= 0x30 && first <= 0x39)) return null;
  let end = at + 1;
  while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
  const next = skipSpace(text, end);
  if (next < text.length && text[next] !== ',' && text[next] !== '}') return null;
  const value = Number(text.slice(at, end));
  return Number.isSafeInteger(value) ? value : null;
}

function isNumberChar(c: number): boolean {
  // Digits, '.', 'e', 'E', '+', '-': what a JSON number may hold after its first character.
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === MINUS;
}

function skipSpace(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}
