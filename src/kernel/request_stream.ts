/**
 * The host → sandbox wire format on the sandbox's stdin: one JSON header line per message,
 * followed, when the header says `attachment: N`, by N raw bytes of UTF-8 text (a snapshot body,
 * so it is not escaped into the header a second time).
 *
 * @module
 */

/** Characters of an attachment encoded at a time: about 1 MB of UTF-8 for a snapshot body. */
const PIECE_CHARS = 1 << 20;

/**
 * Encodes a message as byte arrays to write in order; a string under `key` travels as the
 * attachment. A large attachment (a 100 MB snapshot body on its way to a restore) is encoded a
 * piece at a time with a turn of the event loop between pieces, so the host's other kernels and
 * requests are not held up while it is encoded.
 *
 * @param key The field sent raw, e.g. `body`.
 */
export async function encodeRequest(
  message: Record<string, unknown>,
  key = "body",
): Promise<Uint8Array[]> {
  const encoder = new TextEncoder();
  const text = message[key];
  if (typeof text !== "string") return [encoder.encode(`${JSON.stringify(message)}\n`)];
  const pieces: Uint8Array[] = [];
  let length = 0;
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + PIECE_CHARS);
    // Never split a surrogate pair: each half alone would be encoded as U+FFFD.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    const piece = encoder.encode(text.slice(at, end));
    pieces.push(piece);
    length += piece.length;
    at = end;
    // setImmediate would not do: Deno then starves pipes and sockets.
    if (at < text.length) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const header = encoder.encode(
    `${JSON.stringify({ ...message, [key]: undefined, attachment: length })}\n`,
  );
  return [header, ...pieces];
}

/**
 * Decodes {@linkcode encodeRequest}'s messages from a byte stream, putting each attachment back
 * under `key`. Bytes are kept as a list of chunks, so a large attachment is copied once.
 */
export async function* readRequests(
  stream: ReadableStream<Uint8Array>,
  key = "body",
): AsyncGenerator<Record<string, unknown>> {
  const reader = stream.getReader();
  let chunks: Uint8Array[] = [];
  let size = 0;
  let scanned = 0;

  const take = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let at = 0;
    let used = 0;
    while (at < n) {
      const chunk = chunks[used];
      // Callers wait until `size` covers `n`, so this means the byte count went wrong.
      if (chunk === undefined) {
        throw new RangeError(`Cannot take ${n} bytes: only ${at} are buffered`);
      }
      const k = Math.min(chunk.length, n - at);
      out.set(chunk.subarray(0, k), at);
      at += k;
      if (k === chunk.length) used++;
      else chunks[used] = chunk.subarray(k);
    }
    chunks = chunks.slice(used);
    size -= n;
    return out;
  };
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

  for (;;) {
    let end: number;
    while ((end = newline()) < 0) if (!await fill()) return;
    const header = JSON.parse(new TextDecoder().decode(take(end + 1)));
    scanned = 0;
    const length = header.attachment;
    if (typeof length === "number") {
      while (size < length) if (!await fill()) return;
      delete header.attachment;
      header[key] = new TextDecoder().decode(take(length));
    }
    yield header;
  }
}
