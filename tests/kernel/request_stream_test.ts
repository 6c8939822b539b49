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

Deno.test("messages and raw attachments are read back at any chunking", async () => {
  const body = JSON.stringify({ text: "line\nbreak é ".repeat(5000) });
  const messages = [
    { id: 1, kind: "execute", code: "x\ny" },
    { id: 2, kind: "restore", body },
    { id: 3, kind: "variables" },
  ];
  const bytes = concat((await Promise.all(messages.map((m) => encodeRequest(m)))).flat());
  for (const size of [1, 13, 4096, bytes.length]) {
    const read = [];
    for await (const m of readRequests(streamOf(bytes, size))) read.push(m);
    assert.deepEqual(read, messages, `chunk size ${size}`);
  }
});

Deno.test("an attachment is sent as raw bytes, not escaped into the header", async () => {
  const body = JSON.stringify({ q: '"'.repeat(1000) });
  const bytes = concat(await encodeRequest({ id: 1, kind: "restore", body }));
  assert.ok(bytes.length < body.length + 100);
});

Deno.test("a large attachment is encoded in pieces and read back whole, pairs unsplit", async () => {
  // Surrogate pairs straddle every piece boundary: a split pair would come back as U+FFFD.
  const body = JSON.stringify({ text: "a" + "😀".repeat(1_500_000) });
  const pieces = await encodeRequest({ id: 7, kind: "restore", body });
  assert.ok(pieces.length > 3, `${pieces.length} pieces`);
  const read = [];
  for await (const m of readRequests(streamOf(concat(pieces), 65536))) read.push(m);
  assert.deepEqual(read, [{ id: 7, kind: "restore", body }]);
});
