import assert from "node:assert/strict";
import { format } from "../../src/kernel/worker/format.ts";
import { render } from "../../src/kernel/worker/render.ts";
import { startKernel } from "./_kernel.ts";

const DISPLAY = Symbol.for("Jupyter.display");

/** Runs `fn` with console.error captured, returning what it printed. */
function capturingErrors(fn: () => void): string[] {
  const printed: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => printed.push(args.map(String).join(" "));
  try {
    fn();
  } finally {
    console.error = original;
  }
  return printed;
}

Deno.test("an ordinary value's bundle is only text/plain, rendered as before", () => {
  class Point {
    constructor(public x: number, public y: number) {}
  }
  const values: unknown[] = [
    42,
    "text",
    null,
    true,
    10n ** 20n,
    Symbol("s"),
    [1, "two", { three: 3 }],
    new Map([[1, { a: [1, 2] }]]),
    { a: { b: { c: { d: { e: { f: 1 } } } } } },
    Array.from({ length: 1000 }, (_, i) => i),
    new Point(1, 2),
    function named() {},
  ];
  for (const value of values) assert.deepEqual(format(value), { "text/plain": render(value) });
  assert.deepEqual(format("text"), { "text/plain": '"text"' });
  assert.deepEqual(format(10n ** 20n), { "text/plain": "100000000000000000000n" });
  assert.deepEqual(format(new Map([[1, { a: [1, 2] }]])), {
    "text/plain": "Map(1) { 1 => { a: [ 1, 2 ] } }",
  });
});

Deno.test("an object's $display bundle is used, with text/plain rendered when it has none", () => {
  const md = { [DISPLAY]: () => ({ "text/markdown": "**bold**", "text/html": "<b>bold</b>" }) };
  assert.deepEqual(format(md), {
    "text/markdown": "**bold**",
    "text/html": "<b>bold</b>",
    "text/plain": render(md),
  });
  class Table {
    rows = [1, 2];
    [DISPLAY]() {
      return { "text/plain": `Table of ${this.rows.length} rows`, "application/json": this.rows };
    }
  }
  assert.deepEqual(format(new Table()), {
    "text/plain": "Table of 2 rows",
    "application/json": [1, 2],
  });
  const notText = { [DISPLAY]: () => ({ "text/plain": 7 }) };
  assert.deepEqual(format(notText), { "text/plain": render(notText) });
});

Deno.test("a $display that throws or returns no bundle falls back to text/plain and says so", () => {
  const cases = [
    {
      [DISPLAY]: () => {
        throw new Error("no display today");
      },
    },
    { [DISPLAY]: () => "not a bundle" },
    { [DISPLAY]: () => Promise.resolve({ "text/markdown": "late" }) },
    { [DISPLAY]: "not a method" },
  ];
  for (const value of cases) {
    let bundle;
    const printed = capturingErrors(() => bundle = format(value));
    assert.deepEqual(bundle, { "text/plain": render(value) });
    if (typeof value[DISPLAY] === "function") {
      assert.equal(printed.length, 1);
      assert.match(printed[0] ?? "", /Jupyter\.display.*showing text\/plain/);
    } else assert.deepEqual(printed, []);
  }
  const printed = capturingErrors(() => format(cases[0]));
  assert.match(printed[0] ?? "", /no display today/);
});

Deno.test("bundle entries that cannot cross to the host as JSON are left out", () => {
  const value = {
    [DISPLAY]: () => ({
      "text/markdown": "kept",
      "application/json": { when: new Date(0), n: 1 },
      "application/x-bigint": { n: 1n },
      "application/x-function": () => 1,
    }),
  };
  assert.deepEqual(format(value), {
    "text/markdown": "kept",
    "application/json": { when: "1970-01-01T00:00:00.000Z", n: 1 },
    "text/plain": render(value),
  });
});

Deno.test("a cell's $display bundle reaches the host; _ holds the value, not the bundle", async () => {
  await using t = await startKernel();
  const r = await t.kernel.execute(
    `const shown = { n: 1n, [Symbol.for("Jupyter.display")]() {
       return { "text/markdown": "# Title", "application/json": { ok: true }, "x/big": this.n };
     } };
     shown`,
  );
  assert.equal(r.status, "ok");
  assert.equal(r.data?.["text/markdown"], "# Title");
  assert.deepEqual(r.data?.["application/json"], { ok: true });
  assert.equal("x/big" in (r.data ?? {}), false);
  assert.match(r.data?.["text/plain"] ?? "", /^\{ n: 1n, Symbol\(Jupyter\.display\): \[Function/);
  assert.equal((await t.kernel.execute("_ === shown")).data?.["text/plain"], "true");

  const thrown = await t.kernel.execute(
    `({ [Symbol.for("Jupyter.display")]() { throw new Error("broken display"); } })`,
  );
  assert.equal(thrown.status, "ok");
  assert.match(thrown.stderr, /broken display/);
  assert.deepEqual(Object.keys(thrown.data ?? {}), ["text/plain"]);
});

Deno.test("values that look displayable get Deno's bundles: canvas, Vega, image bytes, elements", () => {
  const canvas = { toDataURL: () => "data:image/png;base64,iVBORw0K" };
  assert.deepEqual(format(canvas), { "image/png": "iVBORw0K", "text/plain": render(canvas) });
  const view = { toSpec: () => ({ $schema: "https://vega.github.io/schema/vega-lite/v5.json" }) };
  assert.deepEqual(Object.keys(format(view)), ["application/vnd.vegalite.v5+json", "text/plain"]);
  const vega = { toSpec: () => ({ $schema: "https://vega.github.io/schema/vega/v5.json", n: 1n }) };
  assert.deepEqual(Object.keys(format(vega)), ["text/plain"]);
  const gif = new TextEncoder().encode("GIF89a\x01\x00\x01\x00");
  assert.deepEqual(format(gif), { "image/gif": gif.toBase64(), "text/plain": render(gif) });
  const svg = { outerHTML: "<svg><circle r='1'/></svg>" };
  assert.equal(format(svg)["image/svg+xml"], "<svg><circle r='1'/></svg>");
  const div = { outerHTML: "<div>hi</div>" };
  assert.equal(format(div)["text/html"], "<div>hi</div>");
  const hostile = {
    get toDataURL() {
      throw new Error("no looking");
    },
  };
  assert.deepEqual(Object.keys(format(hostile)), ["text/plain"]);
  // Bytes that are no image stay bytes.
  assert.deepEqual(format(new Uint8Array([1, 2])), {
    "text/plain": render(new Uint8Array([1, 2])),
  });
});

Deno.test("an array of records, a Map and a library table get a shape line and a markdown head", () => {
  const rows = Array.from({ length: 100_000 }, (_, i) => ({
    id: i,
    name: `user|${i}`,
    joined: new Date(Date.UTC(2024, 0, 1 + (i % 28))),
    tags: i % 2 ? ["a"] : null,
  }));
  const bundle = format(rows);
  assert.equal(bundle["text/plain"], render(rows));
  const markdown = bundle["text/markdown"] as string;
  assert.ok(markdown.length < 3_000, `${markdown.length} characters`);
  assert.equal(
    markdown.split("\n")[0],
    "Array of 100,000 rows × 4 columns: id (number), name (string), joined (Date), " +
      "tags (null | Array)",
  );
  assert.match(markdown, /\n\| id \| name \| joined \| tags \|\n\| --: \| --- \| --- \| --- \|\n/);
  assert.match(markdown, /\n\| 0 \| user\\\|0 \| 2024-01-01T00:00:00\.000Z \| null \|\n/);
  assert.match(markdown, /\n\| 9 \| user\\\|9 \| .* \| \[ "a" \] \|\n… 99,990 more rows$/);
  assert.equal(markdown.split("\n").length, 2 + 2 + 10 + 1);

  const map = format(new Map([["ann", { age: 31 }], ["bob", { age: 42, city: "Oslo" }]]));
  assert.equal(
    map["text/markdown"],
    "Map of 2 entries × 3 columns: key (string), age (number), city (string)\n\n" +
      "| key | age | city |\n| --- | --: | --- |\n| ann | 31 |  |\n| bob | 42 | Oslo |",
  );
  assert.equal(
    (format(new Map([[1, "one"], [2, "two"]]))["text/markdown"] as string).split("\n")[0],
    "Map of 2 entries × 2 columns: key (number), value (string)",
  );

  class Frame {
    toMarkdown({ limit = Infinity } = {}) {
      return `|x|\n|-:|\n${[1, 2, 3].slice(0, limit).map((x) => `|${x}|`).join("\n")}\n`;
    }
    numRows() {
      return 30;
    }
    columnNames() {
      return ["x"];
    }
    objects() {
      return [{ x: 1 }];
    }
  }
  assert.equal(
    format(new Frame())["text/markdown"],
    "Frame of 30 rows × 1 column: x (number)\n\n|x|\n|-:|\n|1|\n|2|\n|3|\n… 20 more rows",
  );
  // Not tables: one record, arrays of other things, a toMarkdown that throws.
  for (const value of [[{ a: 1 }], [1, 2], [{ a: 1 }, 2], [[1], [2]], new Map([[1, 2]])]) {
    assert.equal(format(value)["text/markdown"], undefined, Deno.inspect(value));
  }
  const broken = {
    toMarkdown: () => {
      throw new Error("no");
    },
  };
  assert.deepEqual(format(broken), { "text/plain": render(broken) });
});

Deno.test("an arquero table in a kernel arrives with its shape and first rows as markdown", async () => {
  await using k = await startKernel();
  const r = await k.kernel.execute(
    'import * as aq from "npm:arquero@7.2.1";\n' +
      "aq.table({ city: Array.from({ length: 500 }, (_, i) => `c${i}`), " +
      "pop: Array.from({ length: 500 }, (_, i) => i * 10) })",
  );
  assert.equal(r.status, "ok", r.error?.stack);
  const markdown = r.data?.["text/markdown"] as string;
  assert.match(
    markdown,
    /^ColumnTable of 500 rows × 2 columns: city \(string\), pop \(number\)\n\n\|city\|pop\|/,
  );
  assert.match(markdown, /\|c9\|90\|\n… 490 more rows$/);
});
