/**
 * Writes a snapshot body as bytes, in pieces (`snapshot_body.ts` has the layout): the JSON
 * alone when it names no byte segment (formats 1 and 2, which earlier kernels read), else the
 * format 3 header, the segments and the JSON.
 *
 * @module
 */
import { bodyHead, padding } from "./snapshot_body.ts";
import { writeJson } from "./json_chunks.ts";

/** Bytes of a segment copied into one piece: a large typed array is never copied whole. */
const PIECE_BYTES = 1 << 20;

/**
 * Hands `emit` the body of `json` and `segments`, each piece an array of its own (the caller
 * may transfer it), copied out of the values the segments view.
 */
export function writeBody(
  json: unknown,
  segments: readonly Uint8Array[],
  emit: (bytes: Uint8Array) => void,
): void {
  if (segments.length > 0) {
    emit(bodyHead(segments.map((s) => s.length)));
    for (const segment of segments) {
      for (let at = 0; at < segment.length; at += PIECE_BYTES) {
        emit(segment.slice(at, at + PIECE_BYTES));
      }
      const pad = padding(segment.length);
      if (pad > 0) emit(new Uint8Array(pad));
    }
  }
  const encoder = new TextEncoder();
  writeJson(json, (text) => emit(encoder.encode(text)));
}
