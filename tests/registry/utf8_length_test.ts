import assert from "node:assert/strict";
import { utf8Length } from "../../src/registry/utf8_length.ts";

Deno.test("utf8Length counts what TextEncoder writes, without encoding", () => {
  const samples = ["", "abc", "é€", "😀x", "a\ud800b", "\udc00", "\ud800", '{"k":"ü"}'.repeat(99)];
  for (const text of samples) {
    assert.equal(utf8Length(text), new TextEncoder().encode(text).length, JSON.stringify(text));
  }
});
