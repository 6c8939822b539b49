/**
 * Token framing for a pipe shared with untrusted writers.
 *
 * A cell's code runs in the same process as the sandbox's message loop and can write to the same
 * stdout and stderr. Every frame therefore starts with a random token the cell never sees, and
 * is at most {@linkcode MAX_FRAME_BYTES} long so that it reaches the pipe in one atomic write
 * (POSIX guarantees atomicity up to PIPE_BUF, 4096 bytes on Linux). Bytes outside frames are the
 * cell's own output.
 *
 * @module
 */
import { concat } from "./bytes.ts";

/** Upper bound of one encoded frame, below PIPE_BUF. */
export const MAX_FRAME_BYTES = 4096;

const NEWLINE = 0x0a;
const MORE = 0x2b; // "+": more chunks of this message follow
const LAST = 0x2e; // ".": last chunk
const MORE_BYTES = 0x2d; // "-": a chunk of an attachment's bytes, more follow
const LAST_BYTES = 0x3d; // "=": the attachment's last chunk of bytes
/** A bytes frame's length field: 2 bytes, big-endian, after its flag. */
const LENGTH_BYTES = 2;

/**
 * Splits one JSON message into frames: `token`, a `+`/`.` flag, a chunk of the UTF-8 JSON text
 * (which never contains a raw newline), and `\n`.
 *
 * Bytes (a piece of a snapshot body) can travel as an `attachment`, raw, after the message:
 * each of its frames is `token`, a `-`/`=` flag, the chunk's length (2 bytes, big-endian), the
 * chunk and `\n`. The decoder puts them back under the message's `attachment` key.
 *
 * Every frame ends with its only or last newline: Deno's stdout is line-buffered, so a write
 * whose tail follows its last newline is cut there, and the tail, held back, would reach the pipe
 * after what a cell wrote meanwhile (measured: a cell's output inside a snapshot's bytes).
 *
 * @param token Random ASCII token known only to the two ends of the pipe.
 * @param message Any JSON-serializable object.
 * @param attachment Bytes sent raw after the message.
 * @param reuse Yield each frame in one buffer that the next frame overwrites, for a caller
 *   that writes each before it asks for the next (no copy per frame; a 20 MB snapshot is five
 *   thousand frames).
 */
export function* encodeFrames(
  token: string,
  message: Record<string, unknown>,
  attachment?: Uint8Array,
  reuse = false,
): Generator<Uint8Array> {
  if (attachment === undefined) return yield* frame(token, JSON.stringify(message), reuse);
  yield* frame(token, JSON.stringify({ ...message, attachment: true }), reuse);
  yield* byteFrames(token, attachment, reuse);
}

/** Frames `bytes` as they are, a frame at a time (at least one, for no bytes). */
function* byteFrames(token: string, bytes: Uint8Array, reuse: boolean): Generator<Uint8Array> {
  const head = tokenBytes(token);
  const room = MAX_FRAME_BYTES - head.length - 2 - LENGTH_BYTES;
  const buffer = new Uint8Array(head.length + 2 + LENGTH_BYTES + Math.min(room, bytes.length));
  buffer.set(head);
  let at = 0;
  do {
    const n = Math.min(room, bytes.length - at);
    buffer[head.length] = at + n < bytes.length ? MORE_BYTES : LAST_BYTES;
    buffer[head.length + 1] = n >> 8;
    buffer[head.length + 2] = n & 0xff;
    buffer.set(bytes.subarray(at, at + n), head.length + 1 + LENGTH_BYTES);
    buffer[head.length + 1 + LENGTH_BYTES + n] = NEWLINE;
    at += n;
    const end = head.length + 2 + LENGTH_BYTES + n;
    yield reuse ? buffer.subarray(0, end) : buffer.slice(0, end);
  } while (at < bytes.length);
}

/**
 * Frames `text` one frame at a time, encoding it to UTF-8 as it goes, so that a large text
 * never exists twice more in memory (once as bytes, once as frames).
 */
function* frame(token: string, text: string, reuse: boolean): Generator<Uint8Array> {
  const head = tokenBytes(token);
  // A short message (most are) needs no 4 KiB buffer: at most 3 bytes per UTF-16 unit.
  const buffer = new Uint8Array(Math.min(MAX_FRAME_BYTES, head.length + 2 + 3 * text.length));
  buffer.set(head);
  const room = MAX_FRAME_BYTES - head.length - 2;
  let at = 0;
  do {
    // encodeInto stops where the frame is full, never inside a character.
    const { read, written } = encoder.encodeInto(
      text.slice(at, at + room),
      buffer.subarray(head.length + 1, head.length + 1 + room),
    );
    at += read;
    buffer[head.length] = at < text.length ? MORE : LAST;
    buffer[head.length + 1 + written] = NEWLINE;
    const end = head.length + written + 2;
    yield reuse ? buffer.subarray(0, end) : buffer.slice(0, end);
  } while (at < text.length);
}

const encoder = new TextEncoder();
/** The last token's bytes: one pipe, one token, encoded once rather than per message. */
let lastToken: { token: string; bytes: Uint8Array } | undefined;

function tokenBytes(token: string): Uint8Array {
  if (lastToken?.token !== token) lastToken = { token, bytes: encoder.encode(token) };
  return lastToken.bytes;
}

/** What a {@linkcode FrameDecoder} found in the bytes it was fed. */
export type Decoded = { kind: "output"; bytes: Uint8Array } | { kind: "message"; message: unknown };

/**
 * The `attachment` of a decoded message: its bytes, as views of the chunks they arrived in (a
 * caller joining several attachments copies them once).
 */
export type Attachment = Uint8Array[];

/**
 * Separates framed messages from free output in a byte stream, across chunk boundaries.
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder(token);
 * for await (const chunk of stream) for (const item of decoder.push(chunk)) handle(item);
 * ```
 */
export class FrameDecoder {
  #token: Uint8Array;
  /** Bytes held back: the start of what may be a token, or a token without its flag yet. */
  #held: Uint8Array = new Uint8Array(0);
  /** Inside a frame, after its token and flag: its text is decoded as it arrives. */
  #inFrame = false;
  #flag = 0;
  /** Inside a bytes frame: how many of its bytes are still to come, its newline last. */
  #bytesLeft = 0;
  /** The current message's bytes so far: views of the chunks they arrived in, not copies. */
  #pieces: Uint8Array[] = [];
  /** A message whose attachment frames come next. */
  #awaiting?: Record<string, unknown>;

  /** @param token The token the writer prefixes every frame with. */
  constructor(token: string) {
    this.#token = new TextEncoder().encode(token);
  }

  /**
   * Feeds bytes; returns free output and complete messages in stream order. A frame's bytes
   * are kept as views of the chunks they arrived in, copied once when the message is complete:
   * a 20 MB snapshot arrives in thousands of pipe reads, and a copy (an allocation) for each
   * took most of the time it spent here.
   */
  push(chunk: Uint8Array): Decoded[] {
    const buffer = this.#held.length > 0 ? concat([this.#held, chunk]) : chunk;
    this.#held = new Uint8Array(0);
    const out: Decoded[] = [];
    const tokenLength = this.#token.length;
    let at = 0;
    while (at < buffer.length) {
      if (this.#bytesLeft > 0) {
        const end = Math.min(buffer.length, at + this.#bytesLeft);
        // The frame's newline is not among its bytes.
        const data = Math.min(end, at + this.#bytesLeft - 1);
        if (data > at) this.#pieces.push(buffer.subarray(at, data));
        this.#bytesLeft -= end - at;
        at = end;
        if (this.#bytesLeft === 0 && this.#flag === LAST_BYTES) this.#finishBytes(out);
        continue;
      }
      if (this.#inFrame) {
        const end = buffer.indexOf(NEWLINE, at);
        if (end < 0) {
          this.#pieces.push(buffer.subarray(at));
          at = buffer.length;
          break;
        }
        this.#pieces.push(buffer.subarray(at, end));
        this.#inFrame = false;
        at = end + 1;
        if (this.#flag === LAST) this.#finish(out);
        continue;
      }
      const start = indexOf(buffer, this.#token, at);
      if (start < 0) {
        // Keep only a tail that is the start of a token split across chunks, so that output
        // streams as it is printed.
        const keep = Math.max(at, buffer.length - tokenPrefixAtEnd(buffer, this.#token));
        if (keep > at) out.push({ kind: "output", bytes: buffer.slice(at, keep) });
        this.#held = buffer.slice(keep);
        break;
      }
      if (start > at) out.push({ kind: "output", bytes: buffer.slice(at, start) });
      if (start + tokenLength >= buffer.length) {
        // The token, but not yet its flag.
        this.#held = buffer.slice(start);
        break;
      }
      const flag = buffer[start + tokenLength]!;
      if (flag === MORE_BYTES || flag === LAST_BYTES) {
        const length = start + tokenLength + 1;
        if (length + LENGTH_BYTES > buffer.length) {
          this.#held = buffer.slice(start);
          break;
        }
        this.#flag = flag;
        this.#bytesLeft = ((buffer[length]! << 8) | buffer[length + 1]!) + 1;
        at = length + LENGTH_BYTES;
        continue;
      }
      this.#flag = flag;
      this.#inFrame = true;
      at = start + tokenLength + 1;
    }
    return out;
  }

  /** An attachment's last bytes frame ended: hands out its message with the bytes. */
  #finishBytes(out: Decoded[]): void {
    const attachment: Attachment = this.#pieces;
    this.#pieces = [];
    // Only a message that announced an attachment is followed by bytes frames.
    if (this.#awaiting) out.push({ kind: "message", message: { ...this.#awaiting, attachment } });
    this.#awaiting = undefined;
  }

  /** A message's last frame ended: hands out the message, or keeps it for its attachment. */
  #finish(out: Decoded[]): void {
    const [only] = this.#pieces;
    const text = new TextDecoder().decode(this.#pieces.length === 1 ? only : concat(this.#pieces));
    this.#pieces = [];
    const message = JSON.parse(text);
    if (message?.attachment === true) this.#awaiting = message;
    else out.push({ kind: "message", message });
  }

  /** Returns whatever output is still held back, at the end of the stream. */
  flush(): Uint8Array {
    const rest = this.#held;
    this.#held = new Uint8Array(0);
    return rest;
  }
}

/** Length of the longest end of `buffer` that is a proper prefix of `token`. */
function tokenPrefixAtEnd(buffer: Uint8Array, token: Uint8Array): number {
  for (let n = Math.min(token.length - 1, buffer.length); n > 0; n--) {
    let j = 0;
    while (j < n && buffer[buffer.length - n + j] === token[j]) j++;
    if (j === n) return n;
  }
  return 0;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  if (first === undefined) return -1;
  for (let i = haystack.indexOf(first, from); i >= 0; i = haystack.indexOf(first, i + 1)) {
    if (i + needle.length > haystack.length) {
      // A partial match at the very end: report it so the caller keeps it for the next chunk.
      return -1;
    }
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
