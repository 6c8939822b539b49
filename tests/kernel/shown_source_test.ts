import assert from "node:assert/strict";
import { startKernel } from "./_kernel.ts";

Deno.test("functions and classes are shown in the TypeScript the agent wrote, without the kernel's checks", async () => {
  // Found by a user trial: inspect_variable showed `name        ; rows       ;` and
  // `constructor(name        , rows       )`, list_variables `(n        ) => …`.
  await using t = await startKernel();
  const cell = "let total: number = 0;\n" +
    "class Segment {\n  name: string;\n  rows: number[];\n" +
    "  constructor(name: string, rows: number[]) { this.name = name; this.rows = rows; }\n" +
    "  sum(): number { let s = 0; for (const r of this.rows) s += r; return s; }\n}\n" +
    "const fmt = (n: number): string => n.toFixed(2);\n" +
    "function count<T>(items: T[]): number { let n = 0; while (n < items.length) n++; return n }";
  assert.equal((await t.kernel.execute(cell)).status, "ok");
  const segment = await t.kernel.inspect("Segment");
  assert.equal(segment.source, cell.slice(cell.indexOf("class Segment"), cell.indexOf("\nconst")));
  assert.equal((await t.kernel.inspect("fmt")).source, "(n: number): string => n.toFixed(2)");
  assert.equal(
    (await t.kernel.inspect("count")).source,
    "function count<T>(items: T[]): number { let n = 0; while (n < items.length) n++; return n }",
  );
  const previews = Object.fromEntries(
    (await t.kernel.variables()).map((v) => [v.name, v.preview]),
  );
  assert.match(previews.fmt!, /^\(n: number\): string => n\.toFixed\(2\)/);
  // A function defined by plain JavaScript, or in a later cell, is shown as it is.
  await t.kernel.execute("const twice = (x) => { for (;;) return 2 * x }");
  assert.equal((await t.kernel.inspect("twice")).source, "(x) => { for (;;) return 2 * x }");
});
