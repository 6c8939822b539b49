import assert from "node:assert/strict";
import {
  DOWNLOAD_LIMIT,
  downloadResult,
  fileUri,
  mimeTypeByExtension,
  mimeTypeOf,
  resourceContents,
  textSpan,
} from "../../src/mcp/file_content.ts";
import { MAX_BODY_BYTES } from "../../src/mcp/http.ts";
import { UPLOAD_CHUNK_BYTES } from "../../src/mcp/tools/upload_file.ts";
import type { FileChunk } from "../../src/scratch_files.ts";

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

function chunk(bytes: Uint8Array, options: { offset?: number; size?: number } = {}): FileChunk {
  const offset = options.offset ?? 0;
  return {
    path: "f",
    size: options.size ?? offset + bytes.length,
    offset,
    bytes,
    head: offset === 0 ? bytes.subarray(0, 16) : new Uint8Array(),
  };
}

Deno.test("an upload chunk's base64 and its request fit under the HTTP body limit", () => {
  assert.ok(Math.ceil(UPLOAD_CHUNK_BYTES / 3) * 4 + 4096 < MAX_BODY_BYTES);
});

Deno.test("a file's URI encodes each segment and keeps the kernel id's case", () => {
  const uri = fileUri("AbC_-9", "out/my plot%.png");
  assert.equal(uri, "kernel://AbC_-9/files/out/my%20plot%25.png");
  assert.equal(new URL(uri).host, "AbC_-9", "a non-special scheme keeps the host's case");
});

Deno.test("MIME types come from magic bytes first, then the extension", () => {
  assert.equal(mimeTypeOf("x.bin", PNG, false), "image/png");
  assert.equal(mimeTypeOf("data.CSV", new Uint8Array(), true), "text/csv");
  assert.equal(mimeTypeOf("notes", new Uint8Array(), true), "text/plain");
  assert.equal(mimeTypeOf("blob", new Uint8Array(), false), "application/octet-stream");
  assert.equal(mimeTypeByExtension("out/plot.PNG"), "image/png");
  assert.equal(mimeTypeByExtension("notes"), undefined);
  assert.equal(mimeTypeByExtension("a.unknown"), undefined);
});

Deno.test("a text chunk is cut at character boundaries; NUL or invalid UTF-8 is binary", () => {
  const bytes = new TextEncoder().encode("aé€😀"); // 1 + 2 + 3 + 4 bytes
  assert.deepEqual(textSpan(chunk(bytes)), { text: "aé€😀", start: 0, end: 10 });
  // Bytes 0..4 of a longer file end inside "€": it is left for the next chunk.
  assert.deepEqual(textSpan(chunk(bytes.subarray(0, 4), { size: 10 })), {
    text: "aé",
    start: 0,
    end: 3,
  });
  // A chunk starting inside "é" skips its continuation byte.
  assert.deepEqual(textSpan(chunk(bytes.subarray(2, 6), { offset: 2, size: 10 })), {
    text: "€",
    start: 3,
    end: 6,
  });
  assert.equal(textSpan(chunk(new Uint8Array([0x61, 0, 0x62]))), undefined);
  assert.equal(textSpan(chunk(new Uint8Array([0xff, 0xfe]))), undefined);
  assert.equal(textSpan(chunk(bytes.subarray(6, 7), { offset: 6, size: 10 })), undefined);
});

Deno.test("a download is text, an image whole, or a base64 resource, with a line saying which bytes came", () => {
  const text = downloadResult("K", chunk(new TextEncoder().encode("a,b\n1,2\n")));
  assert.deepEqual(text.content[1], { type: "text", text: "a,b\n1,2\n" });
  assert.match(
    (text.content[0] as { text: string }).text,
    /8 bytes, text\/plain \(text\)\. The whole/,
  );

  const image = downloadResult("K", chunk(PNG));
  assert.deepEqual(image.content[1], {
    type: "image",
    mimeType: "image/png",
    data: PNG.toBase64(),
  });

  const part = downloadResult("K", { ...chunk(PNG.subarray(0, 4), { size: 12 }), head: PNG });
  const line = (part.content[0] as { text: string }).text;
  assert.match(
    line,
    /Bytes 0 to 4 \(end excluded\) follow\. 8 bytes remain: call download_file again with offset 4/,
  );
  assert.deepEqual(part.content[1], {
    type: "resource",
    resource: {
      uri: "kernel://K/files/f",
      mimeType: "image/png",
      blob: PNG.subarray(0, 4).toBase64(),
    },
  });
  assert.ok(DOWNLOAD_LIMIT >= 1024 * 1024);
});

Deno.test("a text download is cut at the output budget between characters, never inside a surrogate pair", () => {
  const clef = "𝄞".repeat(300);
  const bytes = new TextEncoder().encode(clef);
  const r = downloadResult("K", chunk(bytes), { limit: 1000 });
  const out = r.structuredContent as Record<string, unknown>;
  // 1,000 characters less 500 for the rest of the result: the quotes and 249 pairs.
  assert.equal(out.text, "𝄞".repeat(249));
  assert.deepEqual([out.offset, out.end, out.next_offset, out.remaining_bytes], [0, 996, 996, 204]);
  assert.match(
    (r.content[0] as { text: string }).text,
    /Bytes 0 to 996 \(end excluded\) follow, cut at the output budget of 1,000 characters per result\. 204 bytes remain: call download_file again with offset 996 \(text comes at most 1,000 characters per call\)/,
  );
  const rest = downloadResult("K", chunk(bytes.subarray(996), { offset: 996, size: bytes.length }));
  assert.equal(
    (r.content[1] as { text: string }).text + (rest.content[1] as { text: string }).text,
    clef,
  );
});

Deno.test("a resource read is text for text and a blob for images and other bytes", () => {
  assert.deepEqual(resourceContents("u", chunk(new TextEncoder().encode("hi"))).contents, [
    { uri: "u", mimeType: "text/plain", text: "hi" },
  ]);
  assert.deepEqual(resourceContents("u", chunk(PNG)).contents, [
    { uri: "u", mimeType: "image/png", blob: PNG.toBase64() },
  ]);
});
