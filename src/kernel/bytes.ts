/**
 * Joining byte arrays, after `@std/bytes`'s `concat` (JSR packages cannot be fetched here).
 *
 * @module
 */

/**
 * Copies byte arrays, in order, into one new array.
 *
 * @example
 * ```ts
 * concat([new Uint8Array([1, 2]), new Uint8Array([3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concat(buffers: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(buffers.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of buffers) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
