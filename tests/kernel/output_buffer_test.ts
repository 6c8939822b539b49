import assert from "node:assert/strict";
import { OutputBuffer } from "../../src/kernel/output_buffer.ts";

Deno.test("output beyond the limit is counted, not kept, and the buffer empties on take", () => {
  const buffer = new OutputBuffer(10);
  buffer.push(new TextEncoder().encode("12345678"));
  buffer.push(new TextEncoder().encode("abcdefgh"));
  assert.equal(buffer.take(), "12345678ab\n[output truncated: 6 more bytes not shown]");
  assert.equal(buffer.take(), "");
});
