import assert from "node:assert/strict";
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

Deno.test("messages and raw attachments are read back at any chunking", async () => {
  const body = JSON.stringify({ text: "line\nbreak é ".repeat(5000) });
  const messages = [
    { id: 1, kind: "execute", code: "x\ny" },
    { id: 2, kind: "restore", body },
    { id: 3, kind: "variables" },
  ];
  const bytes = new Uint8Array(messages.flatMap((m) => [...encodeRequest(m)]));
  for (const size of [1, 13, 4096, bytes.length]) {
    const read = [];
    for await (const m of readRequests(streamOf(bytes, size))) read.push(m);
    assert.deepEqual(read, messages, `chunk size ${size}`);
  }
});

Deno.test("an attachment is sent as raw bytes, not escaped into the header", () => {
  const body = JSON.stringify({ q: '"'.repeat(1000) });
  const bytes = encodeRequest({ id: 1, kind: "restore", body });
  assert.ok(bytes.length < body.length + 100);
});
