/**
 * A value's own property names, without building one string per index of a large string, array
 * or typed array: `Object.getOwnPropertyNames` of a 12-million-character string's wrapper makes
 * 12 million strings, which took a 512 MB kernel past its memory limit.
 *
 * @module
 */

/** Longest array or typed array whose own names are listed; past it, only its length is known. */
const LISTED_LENGTH = 10_000;

/**
 * The own string-keyed property names of `value` (boxed when a primitive), or of only the
 * enumerable ones. A string's own names are its indices and `length`, so none are returned; an
 * array or typed array longer than 10,000 items returns none either, as its indices would be
 * most of them (callers leave indices out anyway).
 *
 * @param options.enumerable Only enumerable names, as `Object.keys` (default false).
 */
export function ownNames(value: unknown, options: { enumerable?: boolean } = {}): string[] {
  if (value === null || value === undefined || typeof value === "string") return [];
  const target = Object(value);
  if (Array.isArray(target) || ArrayBuffer.isView(target)) {
    const length = (target as { length?: unknown }).length;
    if (typeof length === "number" && length > LISTED_LENGTH) return [];
  }
  return options.enumerable ? Object.keys(target) : Object.getOwnPropertyNames(target);
}
