import assert from "node:assert/strict";
import { tableMarkdown, tableView } from "../../src/kernel/worker/table.ts";

Deno.test("a wide table shows 20 columns and says how many more; long cells are one bounded line", () => {
  const row = (i: number) =>
    Object.fromEntries(
      Array.from({ length: 25 }, (_, c) => [`c${c}`, c === 0 ? `a\nb ${"x".repeat(99)}${i}` : c]),
    );
  const view = tableView([row(1), row(2)])!;
  assert.match(view.shape, /^Array of 2 rows × 25 columns: c0 \(string\), c1 \(number\), /);
  const [header, , first, , more] = view.head.split("\n");
  assert.equal(header!.split(" | ").length, 20);
  assert.match(first!, /^\| a b x+… \| 1 \|/);
  assert.ok(first!.split(" | ")[0]!.length <= 62);
  assert.equal(more, "… 5 more columns");
  assert.equal(tableMarkdown(view), `${view.shape}\n\n${view.head}`);
});

Deno.test("looking at a table runs no getter; columns missing from some rows are empty there", () => {
  let runs = 0;
  const tricky = {
    a: 1,
    get b() {
      return ++runs;
    },
  };
  const view = tableView([tricky, { a: 2, c: true }])!;
  assert.equal(runs, 0);
  assert.equal(view.shape, "Array of 2 rows × 3 columns: a (number), b (string), c (boolean)");
  assert.equal(view.head.split("\n")[2], "| 1 | [getter] |  |");
  assert.equal(view.head.split("\n")[3], "| 2 |  | true |");
});

Deno.test("a column of many kinds is mixed; a library table without shape methods shows its markdown", () => {
  const view = tableView([{ v: 1 }, { v: "s" }, { v: null }, { v: [1] }, { v: new Date(0) }])!;
  assert.equal(view.shape, "Array of 5 rows × 1 column: v (mixed)");
  const bare = tableView({ toMarkdown: () => "|a|\n|-|\n|1|\n" })!;
  assert.deepEqual(bare, { shape: "Object", head: "|a|\n|-|\n|1|" });
  assert.equal(tableView({ toMarkdown: () => 42 }), undefined);
});
