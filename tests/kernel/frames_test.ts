import assert from "node:assert/strict";
import { concat } from "../../src/kernel/bytes.ts";
import {
  type Attachment,
  type Decoded,
  encodeFrames,
  FrameDecoder,
  MAX_FRAME_BYTES,
} from "../../src/kernel/frames.ts";

const TOKEN = "0123456789abcdef0123456789abcdef";
const bytes = (s: string) => new TextEncoder().encode(s);

function decodeAll(chunks: Uint8Array[]): { output: string; messages: unknown[] } {
  const decoder = new FrameDecoder(TOKEN);
  const items: Decoded[] = chunks.flatMap((c) => decoder.push(c));
  items.push({ kind: "output", bytes: decoder.flush() });
  return {
    output: items.filter((i) => i.kind === "output").map((i) => new TextDecoder().decode(i.bytes))
      .join(""),
    // An attachment's pieces, joined, to compare.
    messages: items.filter((i) => i.kind === "message").map((i) => {
      const message = i.message as { attachment?: Attachment };
      return message.attachment ? { ...message, attachment: concat(message.attachment) } : message;
    }),
  };
}

Deno.test("every frame fits in one atomic pipe write", () => {
  const big = { text: "é".repeat(50_000) };
  const frames = [...encodeFrames(TOKEN, big)];
  assert.ok(frames.length > 20);
  for (const f of frames) assert.ok(f.length <= MAX_FRAME_BYTES);
  assert.deepEqual(decodeAll(frames).messages, [big]);
});

Deno.test("output around and between frames is kept in order, split at any byte", () => {
  const stream = new Uint8Array([
    ...bytes("before "),
    ...[...encodeFrames(TOKEN, { id: 1, text: "ü".repeat(3000) })].flatMap((f) => [...f]),
    ...bytes("after, without newline"),
  ]);
  for (const size of [1, 7, 33, 4096]) {
    const chunks = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
    const { output, messages } = decodeAll(chunks);
    assert.equal(output, "before after, without newline", `chunk size ${size}`);
    assert.deepEqual(messages, [{ id: 1, text: "ü".repeat(3000) }]);
  }
});

Deno.test("text that merely resembles a frame without the token stays output", () => {
  const forged = `${"f".repeat(32)}.{"id":1,"ok":true}\n`;
  const { output, messages } = decodeAll([bytes(forged)]);
  assert.equal(output, forged);
  assert.deepEqual(messages, []);
});

Deno.test("a frame interleaved between the pieces of a large foreign write is still found", () => {
  const [frame] = encodeFrames(TOKEN, { id: 7 });
  assert.ok(frame, "a small message is one frame");
  const { output, messages } = decodeAll([bytes("x".repeat(5000)), frame, bytes("y".repeat(5000))]);
  assert.equal(output, "x".repeat(5000) + "y".repeat(5000));
  assert.deepEqual(messages, [{ id: 7 }]);
});

Deno.test("an attachment travels raw after its message and comes back under its key", () => {
  const body = bytes(
    JSON.stringify({ rows: Array.from({ length: 2000 }, (_, i) => `"quoted" ${i}`) }),
  );
  const frames = [...encodeFrames(TOKEN, { id: 3, ok: true }, body)];
  const size = frames.reduce((n, f) => n + f.length, 0);
  assert.ok(size < body.length * 1.02, "the attachment was not escaped");
  assert.deepEqual(decodeAll(frames).messages, [{ id: 3, ok: true, attachment: body }]);
});

Deno.test("an attachment of any bytes (newlines, the token itself) comes back whole, split at any byte", () => {
  const body = new Uint8Array(20_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 37) % 256;
  body.set(bytes(`${TOKEN}.{"id":9,"ok":true}\n`), 5000);
  const frames = [...encodeFrames(TOKEN, { event: "chunk", id: 2 }, body)];
  for (const f of frames) {
    assert.ok(f.length <= MAX_FRAME_BYTES);
    // Deno's stdout is line-buffered: a frame that did not end with a newline would be cut.
    assert.equal(f.at(-1), 0x0a, "each frame ends with a newline");
  }
  const stream = concat([
    bytes("before "),
    ...frames,
    ...encodeFrames(TOKEN, { event: "chunk", id: 2 }, new Uint8Array(0)),
    bytes("after"),
  ]);
  for (const size of [1, 2, 7, 33, 4096, stream.length]) {
    const chunks = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
    const { output, messages } = decodeAll(chunks);
    assert.equal(output, "before after", `chunk size ${size}`);
    assert.deepEqual(messages, [
      { event: "chunk", id: 2, attachment: body },
      { event: "chunk", id: 2, attachment: new Uint8Array(0) },
    ], `chunk size ${size}`);
  }
});

Deno.test("output is released as it arrives, holding back only what may start a token", () => {
  const decoder = new FrameDecoder(TOKEN);
  const text = (items: Decoded[]) =>
    items.map((i) => i.kind === "output" ? new TextDecoder().decode(i.bytes) : "").join("");
  assert.equal(text(decoder.push(bytes("line 0\n"))), "line 0\n");
  assert.equal(text(decoder.push(bytes("tail 0123"))), "tail ");
  assert.equal(text(decoder.push(bytes("x"))), "0123x");
});

Deno.test("frames made in one reused buffer decode the same when each is written before the next", () => {
  const body = bytes(JSON.stringify({ text: "ü".repeat(20_000), n: [1, 2, 3] }));
  const written: Uint8Array[] = [];
  const seen = new Set<ArrayBufferLike>();
  for (const f of encodeFrames(TOKEN, { id: 4, ok: true }, body, true)) {
    assert.ok(f.length <= MAX_FRAME_BYTES);
    seen.add(f.buffer);
    written.push(f.slice());
  }
  assert.equal(seen.size, 2, "one buffer for the message, one for its attachment");
  assert.deepEqual(decodeAll(written).messages, [{ id: 4, ok: true, attachment: body }]);
});
