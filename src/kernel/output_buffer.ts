/**
 * A cell's captured output, bounded: the first `limit` bytes are kept and the rest counted, so a
 * cell that floods stdout costs the host bounded memory.
 *
 * @module
 */

/** Bytes kept per stream and per request, as DESIGN.md section 2 bounds result text. */
export const OUTPUT_LIMIT_BYTES = 100_000;

/**
 * The note {@linkcode OutputBuffer.take} ends a text with when it dropped bytes, as a pattern
 * that also finds it quoted (`> `, see `model_text.ts`) at the end of a text.
 */
export const DROPPED_NOTE = /\n(?:> )?\[output truncated: [\d,]+ more bytes not shown\]$/;

/** Accumulates bytes up to a limit and counts what it drops. */
export class OutputBuffer {
  #chunks: Uint8Array[] = [];
  #kept = 0;
  #dropped = 0;
  #limit: number;

  /** @param limit Bytes kept before the rest is only counted (default 100 kB). */
  constructor(limit = OUTPUT_LIMIT_BYTES) {
    this.#limit = limit;
  }

  /** Adds bytes, keeping what fits. */
  push(bytes: Uint8Array): void {
    const room = this.#limit - this.#kept;
    if (room > 0) {
      const kept = bytes.subarray(0, room);
      this.#chunks.push(kept.slice());
      this.#kept += kept.length;
    }
    this.#dropped += Math.max(0, bytes.length - Math.max(room, 0));
  }

  /** Returns the text so far, with a note when bytes were dropped, and empties the buffer. */
  take(): string {
    const bytes = new Uint8Array(this.#kept);
    let at = 0;
    for (const chunk of this.#chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    let text = new TextDecoder().decode(bytes);
    if (this.#dropped > 0) {
      text += `\n[output truncated: ${this.#dropped.toLocaleString("en-US")} more bytes not shown]`;
    }
    this.#chunks = [];
    this.#kept = 0;
    this.#dropped = 0;
    return text;
  }
}
