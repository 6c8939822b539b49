import assert from "node:assert/strict";
import {
  cut,
  cutHint,
  OUTPUT_LIMIT,
  shareBudget,
  truncate,
  truncateAll,
} from "../../src/mcp/text_budget.ts";

Deno.test("a text within the limit is kept; a longer one is cut to it with a note and a hint", () => {
  assert.equal(truncate("abc", 10), "abc");
  const text = "z".repeat(50_000);
  const out = truncate(text);
  assert.equal(out.length, OUTPUT_LIMIT);
  assert.match(out, /^z+\n\[truncated: \d{2},\d{3} more characters of 50,000\]\n\[Text beyond/);
  assert.ok(out.endsWith(cutHint(OUTPUT_LIMIT)));
  const short = cut("q".repeat(1000), 100);
  assert.ok(short.length <= 100, `${short.length}`);
  assert.match(short, /^q+\n\[truncated: \d+ more characters of 1,000\]$/);
});

Deno.test("a budget is shared: short texts keep all, long ones split the rest", () => {
  assert.deepEqual(shareBudget([10, 500, 2000], 1000), [10, 495, 495]);
  assert.deepEqual(shareBudget([100, 100], 1000), [100, 100]);
  assert.deepEqual(shareBudget([3000, 1], 1001), [1000, 1]);
  assert.deepEqual(shareBudget([], 10), []);
});

Deno.test("texts cut together stay within the limit, each saying what it lost, then the hint", () => {
  assert.deepEqual(truncateAll(["a", "b"], 10), ["a", "b"]);
  const out = truncateAll(["status", "o".repeat(90_000), "the value", "e".repeat(30_000)], 4000);
  assert.ok(out.join("\n").length <= 4000, `${out.join("\n").length}`);
  assert.equal(out[0], "status");
  assert.equal(out[2], "the value");
  assert.match(out[1]!, /more characters of 90,000\]$/);
  assert.match(out[3]!, /more characters of 30,000\]$/);
  assert.equal(out[4], cutHint(4000));
});

Deno.test("a cut keeps the kernel's note that it dropped output, plain or quoted", () => {
  const note = "\n[output truncated: 5,000,000 more bytes not shown]";
  for (const tail of [note, note.replace("\n", "\n> ")]) {
    const out = cut("o".repeat(100_000) + tail, 1000);
    assert.ok(out.length <= 1000, `${out.length}`);
    assert.ok(
      out.endsWith(
        `\n[truncated: ${
          (100_000 - (out.indexOf("\n"))).toLocaleString("en-US")
        } more characters of 100,000]${tail}`,
      ),
      out.slice(-200),
    );
  }
  // Through the shared budget too.
  const [first, hint] = truncateAll(["x".repeat(50_000) + note], 2000);
  assert.ok(first!.endsWith(note));
  assert.equal(hint, cutHint(2000));
});
