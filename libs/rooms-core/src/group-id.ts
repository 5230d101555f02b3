/**
 * What a group id may be: 1 to 128 characters of letters, digits and `_ . : @ / # = + -`. No braces or spaces,
 * because ids become Redis keys with `{hash tags}`.
 */
export const GROUP_ID_PATTERN = /^[A-Za-z0-9_.:@/#=+-]{1,128}$/;

/** True when `id` is a valid group id (see `GROUP_ID_PATTERN`). */
export function isValidGroupId(id: unknown): id is string {
  return typeof id === 'string' && GROUP_ID_PATTERN.test(id);
}
