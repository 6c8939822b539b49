import assert from "node:assert/strict";
import { writeJson } from "../../src/kernel/worker/json_chunks.ts";

function chunks(value: unknown, size: number): string[] {
  const out: string[] = [];
  writeJson(value, (text) => out.push(text), size);
  return out;
}

Deno.test("writeJson writes exactly what JSON.stringify writes, in chunks", () => {
  const sparse = [1, , 3]; // a hole
  const values: unknown[] = [
    null,
    42,
    'text with "quotes" and \n',
    [1, undefined, () => 1, Symbol("s"), NaN, sparse],
    { a: 1, skip: undefined, f: () => 1, nested: { b: [true, false, null] }, 'k"ey': "v" },
    Object.assign(Object.create(null), { bare: 1 }),
    { toJSON: () => "custom" },
    { date: new Date(0), list: Array.from({ length: 20_000 }, (_, i) => ({ i, t: ["a", i] })) },
    Array.from({ length: 3 }, () => Array.from({ length: 5_000 }, (_, i) => i * 0.5)),
    { deep: Array.from({ length: 300 }, (_, i) => ({ ["k" + i]: Array(300).fill(i) })) },
    [],
    {},
  ];
  for (const value of values) {
    const parts = chunks(value, 1024);
    assert.equal(parts.join(""), JSON.stringify(value));
  }
});

Deno.test("writeJson keeps each chunk near the size asked for, so no large string is built", () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => ({ id: i, name: `row${i}` }));
  const parts = chunks({ rows }, 64 * 1024);
  assert.equal(parts.join(""), JSON.stringify({ rows }));
  assert.ok(parts.length > 20, `${parts.length} chunks`);
  const longest = Math.max(...parts.map((p) => p.length));
  // A run of small elements is written at once: a chunk can exceed the size by one run.
  assert.ok(longest < 64 * 1024 + 200_000, `longest chunk ${longest}`);
});

Deno.test("one long string is written in chunks too, never cut inside a surrogate pair", () => {
  const text = "a" + "😀".repeat(50_000) + "b".repeat(100_000);
  const parts = chunks({ text }, 1000);
  assert.equal(parts.join(""), JSON.stringify({ text }));
  assert.ok(Math.max(...parts.map((p) => p.length)) <= 2000);
  for (const part of parts) {
    // Each chunk is valid UTF-16 on its own: UTF-8 round trips it unchanged.
    assert.equal(new TextDecoder().decode(new TextEncoder().encode(part)), part);
  }
});

Deno.test("a value with no JSON form writes nothing", () => {
  assert.deepEqual(chunks(undefined, 10), []);
  assert.deepEqual(chunks(() => 1, 10), []);
});
