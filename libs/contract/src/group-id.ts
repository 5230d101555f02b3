/** Longest accepted group id, in characters. */
export const MAX_GROUP_ID_LENGTH = 128;

/**
 * The characters a group id may hold: letters, digits and `_ . : @ / # = + -`. Ids become Redis keys with
 * `{hash tags}`, so braces, spaces and control characters are excluded. Length is checked separately
 * (`MAX_GROUP_ID_LENGTH`).
 */
export const GROUP_ID_PATTERN = /^[A-Za-z0-9_.:@/#=+-]+$/;

/** True when `id` is a valid group id: a string of 1 to `MAX_GROUP_ID_LENGTH` characters of `GROUP_ID_PATTERN`. */
export function isValidGroupId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_GROUP_ID_LENGTH && GROUP_ID_PATTERN.test(id);
}
