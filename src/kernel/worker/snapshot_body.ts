/**
 * The bytes of a snapshot body, as the registry stores them and the kernel reads them.
 *
 * Formats 1 and 2 are JSON text (UTF-8; `format` is a field of the JSON). Format 3 carries raw
 * byte segments beside its JSON (typed arrays, ArrayBuffers, arrays of floats: see
 * `worker/snapshot_codec.ts`), which the JSON names by index, so an 8 MB Float64Array takes 8 MB
 * and not 10.7 MB of base64:
 *
 * ```
 * 0   4 bytes  magic: 00 4D 4B 53 ("\0MKS"; a JSON body never starts with a NUL)
 * 4   u32 LE   format (3; a later format keeps these 8 bytes, so a kernel refusing it names it)
 * 8   u32 LE   segment count n
 * 12  u32 LE   0
 * 16  n × u64 LE  segment lengths
 *     the segments, in order, each padded with zeros to a multiple of 8 bytes (a Float64Array
 *     can view one in place)
 *     the JSON text, UTF-8, to the end
 * ```
 *
 * @module
 */

/** The format of a body with byte segments. */
export const BINARY_FORMAT = 3;

const MAGIC = [0x00, 0x4d, 0x4b, 0x53];
const HEAD_BYTES = 16;

/** A body taken apart: its format, its JSON's UTF-8 bytes, and its segments (views, not copies). */
export interface BodyParts {
  /** The format the header names; `undefined` for a JSON body (its JSON names it). */
  format?: number;
  json: Uint8Array;
  segments: Uint8Array[];
}

/** Bytes of zeros that pad `length` to a multiple of 8. */
export function padding(length: number): number {
  return (8 - length % 8) % 8;
}

/**
 * The header of a format 3 body whose segments have these lengths: what comes before the first
 * segment.
 */
export function bodyHead(lengths: readonly number[]): Uint8Array {
  const head = new Uint8Array(HEAD_BYTES + 8 * lengths.length);
  const view = new DataView(head.buffer);
  head.set(MAGIC);
  view.setUint32(4, BINARY_FORMAT, true);
  view.setUint32(8, lengths.length, true);
  lengths.forEach((n, i) => view.setBigUint64(HEAD_BYTES + 8 * i, BigInt(n), true));
  return head;
}

/**
 * Takes a body apart. A body of a later format is returned with its `format` and nothing else,
 * so the caller refuses it by name.
 *
 * @throws {TypeError} When a body that starts as a format 3 one is cut short.
 */
export function bodyParts(body: Uint8Array): BodyParts {
  if (body[0] !== 0) return { json: body, segments: [] };
  if (body.length < HEAD_BYTES || MAGIC.some((b, i) => body[i] !== b)) {
    throw new TypeError("Cannot restore this snapshot: its body is neither JSON nor binary");
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const format = view.getUint32(4, true);
  if (format !== BINARY_FORMAT) return { format, json: new Uint8Array(0), segments: [] };
  const count = view.getUint32(8, true);
  let at = HEAD_BYTES + 8 * count;
  if (at > body.length) throw new TypeError("Cannot restore this snapshot: its body is cut short");
  const segments: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const length = Number(view.getBigUint64(HEAD_BYTES + 8 * i, true));
    if (at + length > body.length) {
      throw new TypeError("Cannot restore this snapshot: its body is cut short");
    }
    segments.push(body.subarray(at, at + length));
    at += length + padding(length);
  }
  return { format, json: body.subarray(Math.min(at, body.length)), segments };
}
