/**
 * A value's own property names, without building one string per index of a large string, array
 * or typed array: `Object.getOwnPropertyNames` of a 12-million-character string's wrapper makes
 * 12 million strings, which took a 512 MB kernel past its memory limit.
 *
 * @module
 */

/** Longest typed array whose own names are listed: a typed array's are all indices. */
const LISTED_VIEW_LENGTH = 10_000;
/**
 * Longest array whose own names are listed: an array may carry named keys after its indices
 * (d3-dsv's `columns` on 100,000 parsed rows), which only a full listing finds.
 */
const LISTED_ARRAY_LENGTH = 1_000_000;

/**
 * The own string-keyed property names of `value` (boxed when a primitive), or of only the
 * enumerable ones. A string's own names are its indices and `length`, so none are returned; a
 * typed array longer than 10,000 items, or an array longer than 1,000,000, returns none either,
 * as its indices would be most of them (callers leave indices out anyway).
 *
 * @param options.enumerable Only enumerable names, as `Object.keys` (default false).
 */
export function ownNames(value: unknown, options: { enumerable?: boolean } = {}): string[] {
  if (value === null || value === undefined || typeof value === "string") return [];
  const target = Object(value);
  const limit = Array.isArray(target)
    ? LISTED_ARRAY_LENGTH
    : ArrayBuffer.isView(target)
    ? LISTED_VIEW_LENGTH
    : Infinity;
  const length = (target as { length?: unknown }).length;
  if (typeof length === "number" && length > limit) return [];
  return options.enumerable ? Object.keys(target) : Object.getOwnPropertyNames(target);
}
