import assert from "node:assert/strict";
import { concat } from "../../src/kernel/bytes.ts";
import { encodeRequest, readRequests } from "../../src/kernel/request_stream.ts";

function streamOf(bytes: Uint8Array, chunkSize: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at += chunkSize));
    },
  });
}

const utf8 = (text: string) => new TextEncoder().encode(text);

Deno.test("messages and raw attachments are read back at any chunking", async () => {
  const body = utf8(JSON.stringify({ text: "line\nbreak é ".repeat(5000) }));
  const messages = [
    { id: 1, kind: "execute", code: "x\ny" },
    { id: 2, kind: "restore", body },
    { id: 3, kind: "variables" },
  ];
  const bytes = concat(messages.flatMap((m) => [...encodeRequest(m)]));
  for (const size of [1, 13, 4096, bytes.length]) {
    const read = [];
    for await (const m of readRequests(streamOf(bytes, size))) read.push(m);
    assert.deepEqual(read, messages, `chunk size ${size}`);
  }
});

Deno.test("an attachment is sent as raw bytes, not escaped into the header", () => {
  const body = utf8(JSON.stringify({ q: '"'.repeat(1000) }));
  const bytes = concat([...encodeRequest({ id: 1, kind: "restore", body })]);
  assert.ok(bytes.length < body.length + 100);
});

Deno.test("a large attachment is sent in pieces that view it, and read back whole", async () => {
  // Every byte value: a binary body is not text.
  const body = Uint8Array.from({ length: 3_500_000 }, (_, i) => (i * 131 + (i >> 9)) % 256);
  const pieces = [...encodeRequest({ id: 7, kind: "restore", body })];
  assert.ok(pieces.length > 3, `${pieces.length} pieces`);
  assert.ok(pieces.some((p) => p.buffer === body.buffer), "the body's bytes are not copied");
  const read = [];
  for await (const m of readRequests(streamOf(concat(pieces), 65536))) read.push(m);
  assert.deepEqual(read, [{ id: 7, kind: "restore", body }]);
});

Deno.test("an attachment is read back as bytes that own their buffer, to hand to a Worker", async () => {
  const body = utf8(JSON.stringify({ text: "x".repeat(3_000_000) }));
  const read = [];
  const bytes = concat([...encodeRequest({ id: 1, kind: "restore", body })]);
  for await (const m of readRequests(streamOf(bytes, 65536))) read.push(m);
  const got = read[0]!.body as Uint8Array;
  assert.ok(got instanceof Uint8Array);
  assert.equal(got.byteOffset, 0);
  assert.equal(got.buffer.byteLength, got.byteLength);
  assert.deepEqual(got, body);
});
