import assert from "node:assert/strict";
import { concat } from "../../src/kernel/bytes.ts";

Deno.test("concat copies the arrays, in order, into one new array", () => {
  const a = new Uint8Array([1, 2]);
  const b = new Uint8Array([3]);
  const joined = concat([a, new Uint8Array(0), b]);
  assert.deepEqual(joined, new Uint8Array([1, 2, 3]));
  assert.deepEqual(concat([]), new Uint8Array(0));
});

Deno.test("concat's result shares no memory with its parts, even when there is one", () => {
  const only = new Uint8Array([7, 8]);
  const copy = concat([only.subarray(1)]);
  only[1] = 0;
  assert.deepEqual(copy, new Uint8Array([8]));
});
