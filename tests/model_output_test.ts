/**
 * Output sized for a model, end to end through the SDK's real Client over Streamable HTTP: a
 * large table arrives as its shape and first rows, long output is cut to the budget with a note
 * of how to get more, and the variable tools describe large collections briefly.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { serveHttp } from "./_http.ts";

interface Called {
  isError: boolean;
  text: string;
  structured?: Record<string, unknown>;
}

async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: "model-output-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<Called> {
  const r = await client.callTool({ name, arguments: args });
  const blocks = r.content as { type: string; text?: string }[];
  return {
    isError: r.isError === true,
    text: blocks.map((b) => b.text ?? "").join("\n"),
    structured: r.structuredContent as Record<string, unknown> | undefined,
  };
}

const ROWS = "const rows = Array.from({ length: 100_000 }, (_, i) => " +
  "({ id: i, name: `user${i}`, score: i * 1.5 }));";

Deno.test("100,000 records arrive as a shape line and a head table; the variable tools stay brief", async () => {
  // 100,000 records and their renderings come near the tests' 256 MB: the default limit here.
  await using s = await serveHttp({ memoryLimit: 512 });
  const client = await connect(s.url);
  const shown = await call(client, "execute", { code: `${ROWS}\nrows` });
  assert.equal(shown.isError, false, shown.text);
  assert.ok(shown.text.length < 3000, `${shown.text.length} characters`);
  assert.match(
    shown.text,
    /Out\[1\]: Array of 100,000 rows × 3 columns: id \(number\), name \(string\), score \(number\)\n\n\| id \| name \| score \|\n/,
  );
  assert.match(shown.text, /\| 9 \| user9 \| 13\.5 \|\n… 99,990 more rows/);
  assert.match(shown.structured?.result_text as string, /^Array of 100,000 rows/);

  const inspected = await call(client, "inspect_variable", { name: "rows" });
  assert.equal(inspected.isError, false, inspected.text);
  assert.match(inspected.text, /^rows: Array\(100000\)\nArray of 100,000 rows × 3 columns/);
  assert.match(inspected.text, /\| 0 \| user0 \| 0 \|/);
  assert.doesNotMatch(inspected.text, /^\s*\d+: Object$/m);
  assert.ok(inspected.text.length < 3000, `${inspected.text.length} characters`);

  await call(client, "execute", { code: "const floats = new Float64Array(200_000);" });
  const typed = await call(client, "inspect_variable", { name: "floats" });
  assert.match(typed.text, /^floats: Float64Array\(200000\)\nFloat64Array\(200000\) \[/);
  assert.doesNotMatch(typed.text, /^\s*\d+: number$/m);
  assert.ok(typed.text.length < 3000, `${typed.text.length} characters`);

  await call(client, "execute", {
    code: "class Point { constructor(x, y) { this.x = x; this.y = y; } norm() { return 0; } }\n" +
      "const p = new Point(1, 2);",
  });
  const listed = await call(client, "list_variables", {});
  assert.match(listed.text, /^rows: Array\(100000\) \(~\d+(\.\d)? MB\) = \[/m);
  assert.match(listed.text, /^p: Point \(~\d+ B\) = Point \{ x: 1, y: 2 \}$/m);

  // console.table prints Deno's box table, readable as it is.
  const table = await call(client, "execute", { code: "console.table(rows.slice(0, 2))" });

  assert.match(
    table.structured?.stdout as string,
    /│ \(idx\) │ id │ name +│ score │\n├[─┼]+┤\n│ +0 │ +0 │ "user0" │ 0 +│/,
  );

  const completed = await call(client, "complete", { code: "p." });
  const matches = completed.structured?.matches as string[];
  assert.deepEqual(matches.slice(0, 3), ["norm", "x", "y"]);
  assert.ok(matches.indexOf("hasOwnProperty") > 2, matches.join(","));
  assert.ok(matches.includes("toString"));
  await client.close();
});

Deno.test("long output is cut to --output-limit with a note of how much and how to get more", async () => {
  await using s = await serveHttp({ outputLimit: 5000, memoryLimit: 512 });
  const client = await connect(s.url);
  // Three thousand records logged one by one once made a result of 100,032 characters.
  const ran = await call(client, "execute", {
    code:
      `${ROWS}\nfor (const r of rows.slice(0, 3000)) console.log(r);\nthrow new Error("after the log")`,
  });
  assert.equal(ran.isError, true);
  assert.ok(ran.text.length <= 5000, `${ran.text.length} characters`);
  assert.match(ran.text, /\[truncated: [\d,]+ more characters of [\d,]+\]/);
  assert.match(ran.text, /Error: after the log/);
  assert.match(ran.text, /Text beyond 5,000 characters per result was cut\. To see more, write it/);
  const json = JSON.stringify(ran.structured);
  assert.ok(json.length < 6000, `${json.length} characters of structured content`);
  assert.match(ran.structured?.truncated as string, /scratch folder/);
  await client.close();
});

Deno.test("200,000 globals: list_variables and complete stay within the budget in both views, saying how many were left out", async () => {
  await using s = await serveHttp({ memoryLimit: 512 });
  const client = await connect(s.url);
  const made = await call(client, "execute", {
    code: "for (let i = 0; i < 200_000; i++) globalThis[`v${i}`] = { i };",
  });
  assert.equal(made.isError, false, made.text);
  const limit = 20_000;
  const listed = await call(client, "list_variables", {});
  assert.equal(listed.isError, false, listed.text);
  assert.ok(listed.text.length <= limit, `${listed.text.length} characters of text`);
  assert.match(listed.text, /^v0: Object \(~\d+ B\) = \{ i: 0 \}$/m);
  const shownLines = listed.text.split("\n").filter((l) => /^v\d+: /.test(l)).length;
  assert.ok(shownLines > 100, `${shownLines} variables shown`);
  assert.ok(
    listed.text.endsWith(
      `[${(200_000 - shownLines).toLocaleString("en-US")} more variables not shown, of 200,000: ` +
        "inspect_variable shows one by name; a cell can list and filter them]",
    ),
    listed.text.slice(-300),
  );
  const json = JSON.stringify(listed.structured);
  assert.ok(json.length <= limit, `${json.length} characters of structured content`);
  const variables = listed.structured?.variables as { name: string }[];
  assert.ok(variables.length > 100, `${variables.length} variables in the structured view`);
  assert.deepEqual(variables.slice(0, 2).map((v) => v.name), ["v0", "v1"]);
  assert.equal(listed.structured?.omitted, 200_000 - variables.length);
  assert.match(listed.structured?.truncated as string, /more variables not shown, of 200,000/);

  const completed = await call(client, "complete", { code: "v" });
  assert.ok(completed.text.length <= limit, `${completed.text.length} characters of text`);
  assert.match(completed.text, /more matches not shown, of [\d,]+: type more of the name/);
  const completedJson = JSON.stringify(completed.structured);
  assert.ok(completedJson.length <= limit, `${completedJson.length} characters of structured`);
  const matches = completed.structured?.matches as string[];
  assert.ok(matches.length > 100 && matches.every((m) => m.startsWith("v")));
  assert.ok((completed.structured?.omitted as number) > 190_000);
  await client.close();
});

Deno.test("output past both the kernel's 100 kB and the budget still says both were cut", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  const ran = await call(client, "execute", {
    code: `for (let i = 0; i < 3_000; i++) console.log(\`line \${i} \${"x".repeat(90)}\`)`,
  });
  assert.equal(ran.isError, false, ran.text);
  assert.ok(ran.text.length <= 20_000, `${ran.text.length} characters`);
  // The kernel kept 100 kB and dropped the rest; the budget then kept about 20,000 characters.
  assert.match(
    ran.text,
    /\[truncated: [\d,]+ more characters of [\d,]+\]\n> \[output truncated: [\d,]+ more bytes not shown\]\n\[Text beyond 20,000 characters per result was cut\. To see more, write it to a file/,
  );
  const stdout = ran.structured?.stdout as string;
  assert.match(stdout, /\n\[output truncated: [\d,]+ more bytes not shown\]$/);
  assert.match(ran.structured?.truncated as string, /write it to a file/);
  await client.close();
});
