/**
 * The host → sandbox wire format on the sandbox's stdin: one JSON header line per message,
 * followed, when the header says `attachment: "pieces"`, by the bytes of one field (a snapshot
 * body, raw) in pieces, each a line with its byte length and then its bytes, ended by a piece of
 * length 0. The reader hands that field on as bytes: the sandbox passes them to its Worker
 * without a copy.
 *
 * @module
 */
import { concat } from "./bytes.ts";

/** Bytes of an attachment written at a time. */
const PIECE_BYTES = 1 << 20;

/**
 * Encodes a message as byte arrays to write in order; bytes under `key` travel as the
 * attachment, a piece at a time (views, not copies) as the consumer asks for it. A writer that
 * awaits each write lets the host's other kernels and requests run between the pieces of a
 * large attachment (a 100 MB snapshot body on its way to a restore).
 *
 * @param key The field sent raw, e.g. `body`.
 */
export function* encodeRequest(
  message: Record<string, unknown>,
  key = "body",
): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  const bytes = message[key];
  if (!(bytes instanceof Uint8Array)) return yield encoder.encode(`${JSON.stringify(message)}\n`);
  yield encoder.encode(
    `${JSON.stringify({ ...message, [key]: undefined, attachment: "pieces" })}\n`,
  );
  for (let at = 0; at < bytes.length; at += PIECE_BYTES) {
    const piece = bytes.subarray(at, at + PIECE_BYTES);
    yield encoder.encode(`${piece.length}\n`);
    yield piece;
  }
  yield encoder.encode("0\n");
}

/**
 * Decodes {@linkcode encodeRequest}'s messages from a byte stream, putting each attachment back
 * under `key` as its UTF-8 bytes (one array, copied once from the chunks it arrived in).
 */
export async function* readRequests(
  stream: ReadableStream<Uint8Array>,
  key = "body",
): AsyncGenerator<Record<string, unknown>> {
  const reader = stream.getReader();
  let chunks: Uint8Array[] = [];
  let size = 0;
  let scanned = 0;

  /** The next `n` bytes, as views of the chunks they arrived in (no copy). */
  const views = (n: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    let at = 0;
    let used = 0;
    while (at < n) {
      const chunk = chunks[used];
      // Callers wait until `size` covers `n`, so this means the byte count went wrong.
      if (chunk === undefined) {
        throw new RangeError(`Cannot take ${n} bytes: only ${at} are buffered`);
      }
      const k = Math.min(chunk.length, n - at);
      out.push(chunk.subarray(0, k));
      at += k;
      if (k === chunk.length) used++;
      else chunks[used] = chunk.subarray(k);
    }
    chunks = chunks.slice(used);
    size -= n;
    return out;
  };
  const take = (n: number): Uint8Array => concat(views(n));
  const newline = (): number => {
    let offset = 0;
    for (const chunk of chunks) {
      if (offset + chunk.length > scanned) {
        const i = chunk.indexOf(0x0a, Math.max(0, scanned - offset));
        if (i >= 0) return offset + i;
      }
      offset += chunk.length;
    }
    scanned = size;
    return -1;
  };
  const fill = async (): Promise<boolean> => {
    const { value, done } = await reader.read();
    if (done) return false;
    chunks.push(value);
    size += value.length;
    return true;
  };
  /** The next line, without its newline; `undefined` at the end of the stream. */
  const line = async (): Promise<string | undefined> => {
    let end: number;
    while ((end = newline()) < 0) if (!await fill()) return undefined;
    const text = new TextDecoder().decode(take(end + 1).subarray(0, end));
    scanned = 0;
    return text;
  };

  for (;;) {
    const head = await line();
    if (head === undefined) return;
    const header = JSON.parse(head);
    if (header.attachment === "pieces") {
      const pieces: Uint8Array[] = [];
      for (;;) {
        const length = Number(await line());
        if (!Number.isSafeInteger(length) || length < 0) return;
        if (length === 0) break;
        while (size < length) if (!await fill()) return;
        pieces.push(...views(length));
      }
      delete header.attachment;
      // Copied once, into an array of its own that the sandbox can transfer to its Worker.
      header[key] = concat(pieces);
    }
    yield header;
  }
}
