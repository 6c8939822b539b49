/**
 * The built-in data prelude (`--prelude data`) as an agent meets it, through the SDK's real
 * Client: a CSV uploaded with upload_file, parsed with d3-dsv, grouped with arquero, a
 * simple-statistics mean and a chart that arrives as a PNG; the names survive a host restart and
 * an eviction; a kernel without the prelude has none of them.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { BUILTIN_PRELUDES, choosePrelude } from "../src/builtin_preludes.ts";
import type { HostOptions } from "../src/host.ts";
import { serveHttp } from "./_http.ts";
import { connectStdio } from "./_stdio.ts";
import { decodePng, paintedPixels } from "./_png.ts";

type Block = { type: "text"; text: string } | { type: "image"; data: string; mimeType: string };

const DATA: Partial<HostOptions> = {
  preludeSource: BUILTIN_PRELUDES.data!.source,
  preludeDefines: BUILTIN_PRELUDES.data!.defines,
};

/** The prelude's names, each with a check that it works. */
const NAMES = ["aq", "op", "csvParse", "tsvParse", "autoType", "csvFormat", "ss", "chart"];

const REGIONS = ["north", "south", "east", "west"];
/** 400 sales rows: region i % 4, amount i * 1.5. */
const CSV = "id,region,amount\n" +
  Array.from({ length: 400 }, (_, i) => `${i},${REGIONS[i % 4]},${i * 1.5}`).join("\n") + "\n";

async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: "data-prelude-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<{ isError: boolean; content: Block[]; structured?: Record<string, unknown> }> {
  const r = await client.callTool({ name, arguments: args });
  return {
    isError: r.isError === true,
    content: r.content as Block[],
    structured: r.structuredContent as Record<string, unknown> | undefined,
  };
}

/** Runs a cell that must succeed; returns its structured result. */
async function ok(client: Client, code: string): Promise<Record<string, unknown>> {
  const r = await call(client, "execute", { code });
  assert.equal(r.isError, false, `${code}\n${JSON.stringify(r.content)}`);
  return r.structured!;
}

function text(r: { content: Block[] }): string {
  return r.content.flatMap((b) => b.type === "text" ? [b.text] : []).join("\n");
}

/** The chart the tests draw: 200×100 plot, 40 px of padding each side, no autosize. */
const CHART_CELL = `chart({
  width: 200, height: 100, autosize: "none", padding: 40,
  data: byRegion, mark: "bar",
  encoding: { x: { field: "region", type: "nominal" }, y: { field: "total", type: "quantitative" } },
})`;

/** Draws the chart; asserts one PNG image of 280×180 with bars painted in the plot area. */
async function assertChart(client: Client): Promise<void> {
  const r = await call(client, "execute", { code: CHART_CELL });
  assert.equal(r.isError, false, text(r));
  const images = r.content.filter((b) => b.type === "image");
  assert.equal(images.length, 1, text(r));
  assert.equal(images[0]!.mimeType, "image/png");
  const png = await decodePng(Uint8Array.fromBase64(images[0]!.data));
  assert.deepEqual({ width: png.width, height: png.height }, { width: 280, height: 180 });
  assert.ok(paintedPixels(png, { x0: 40, y0: 40, x1: 240, y1: 140 }) > 5_000, "bars drawn");
}

const CHECK_CELL = `console.log(JSON.stringify({
  rows: rows.length, total: byRegion.orderby("region").objects().map((r) => r.total),
  mean: ss.mean(rows.map((r) => r.amount)), regrouped: aq.from(rows).groupby("region").count().numRows(),
  csv: csvFormat(csvParse("a,b\\n1,2", autoType)),
}))`;

const EXPECTED_CHECK = {
  rows: 400,
  // Region east holds ids 2, 6, …, 398: amounts 1.5 × those.
  total: [2, 0, 1, 3].map((offset) => {
    let sum = 0;
    for (let i = offset; i < 400; i += 4) sum += i * 1.5;
    return sum;
  }),
  mean: 299.25,
  regrouped: 4,
  csv: "a,b\n1,2",
};

Deno.test("--prelude data: an uploaded CSV is parsed, grouped, averaged and charted, and all of it survives a restart and an eviction", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-data-prelude-" });
  try {
    let port: number;
    let kernel: string;
    const client = await (async () => {
      await using first = await serveHttp({ ...DATA, dataDir, maxKernels: 1 });
      port = first.port;
      const client = await connect(first.url);
      const instructions = client.getInstructions() ?? "";
      for (const name of NAMES) assert.match(instructions, new RegExp(`\\b${name}\\b`));
      assert.match(instructions, /chart\(spec\)/);

      const uploaded = await call(client, "upload_file", { path: "sales.csv", text: CSV });
      assert.equal(uploaded.isError, false, text(uploaded));
      const parsed = await ok(
        client,
        `const rows = csvParse(await Deno.readTextFile("sales.csv"), autoType);\n` +
          `[rows.length, typeof rows[1].amount, rows.columns.join()]`,
      );
      assert.equal(parsed.result, `[ 400, "number", "id,region,amount" ]`);
      kernel = parsed.kernel as string;
      // Left unordered: an ordered table holds a comparator compiled to a closure, which a
      // snapshot names as lost (as it would for a cell's own arquero import).
      await ok(
        client,
        `const byRegion = aq.from(rows).groupby("region")\n` +
          `  .rollup({ n: op.count(), total: op.sum("amount") });`,
      );
      const mean = await ok(client, `ss.mean(rows.map((r) => r.amount))`);
      assert.equal(mean.result, "299.25");
      const checked = await ok(client, CHECK_CELL);
      assert.deepEqual(JSON.parse(checked.stdout as string), EXPECTED_CHECK);
      await assertChart(client);

      // The prelude's names are the kernel's, not the user's: list_variables shows the cells'.
      const listed = await call(client, "list_variables", {});
      const names = (listed.structured!.variables as { name: string }[]).map((v) => v.name);
      assert.deepEqual(names.sort(), ["byRegion", "rows"]);
      return client;
    })();

    // A host restart (the first host saved at shutdown): the same session resumes its kernel.
    await using _second = await serveHttp({ ...DATA, dataDir, maxKernels: 1 }, port!);
    const restarted = await ok(client, CHECK_CELL);
    assert.ok(restarted.restored_from, "the kernel came back from its snapshot");
    assert.equal(restarted.lost, undefined, `nothing lost: ${restarted.lost}`);
    assert.deepEqual(JSON.parse(restarted.stdout as string), EXPECTED_CHECK);
    await assertChart(client);

    // An eviction: with room for one kernel, a second one pushes this one out.
    const created = await call(client, "create_kernel", {});
    const other = (created.structured as { kernel: string }).kernel;
    const inOther = await call(client, "execute", { code: "typeof chart", kernel: other });
    assert.match(text(inOther), /"function"/);
    const evicted = await ok(client, CHECK_CELL);
    assert.equal(evicted.kernel, kernel!);
    assert.ok(evicted.restored_from, "the evicted kernel came back from its snapshot");
    assert.equal(evicted.lost, undefined, `nothing lost: ${evicted.lost}`);
    assert.deepEqual(JSON.parse(evicted.stdout as string), EXPECTED_CHECK);
    await assertChart(client);
    await client.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a kernel without the prelude has none of its names, and its instructions name none", async () => {
  await using s = await serveHttp();
  const client = await connect(s.url);
  assert.doesNotMatch(client.getInstructions() ?? "", /csvParse|chart\(spec\)/);
  const r = await ok(client, `console.log([${NAMES.map((n) => `typeof ${n}`).join(", ")}].join())`);
  assert.equal(r.stdout, NAMES.map(() => "undefined").join() + "\n");
  await client.close();
});

Deno.test("deno task serve --stdio --prelude data loads it, and again at a reset; chart refuses a non-object", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-data-prelude-stdio-" });
  try {
    await using s = await connectStdio(["--prelude", "data", "--data-dir", dataDir]);
    assert.match(s.client.getInstructions() ?? "", /csvParse/);
    const r = await s.execute(`[typeof aq.from, typeof ss.mean, typeof csvParse, typeof chart]`);
    assert.equal(r.result, `[ "function", "function", "function", "function" ]`);
    await s.execute("const mine = 1;");
    const reset = await s.client.callTool({ name: "reset_kernel", arguments: {} });
    assert.notEqual(reset.isError, true);
    const after = await s.execute(`[typeof mine, typeof aq.from, typeof chart]`);
    assert.equal(after.result, `[ "undefined", "function", "function" ]`, "reset re-ran it");
    const bad = await s.execute(`chart("bar")`);
    assert.equal(bad.status, "error");
    assert.match((bad.error as { message: string }).message, /chart\(spec\) takes a Vega-Lite/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("--prelude data with an --npm-allow that leaves its packages out is refused, naming them", async () => {
  await assert.rejects(() => choosePrelude("data", ["arquero", "lodash"]), {
    message: "it imports d3-dsv, simple-statistics, which --npm-allow leaves out; add them to " +
      "--npm-allow",
  });
  const allowed = ["arquero", "d3-dsv", "simple-statistics"];
  assert.equal((await choosePrelude("data", allowed)).source, BUILTIN_PRELUDES.data!.source);
});

Deno.test("--prelude names a built-in before a file; any other value is read as a file", async () => {
  assert.equal((await choosePrelude("data")).source, BUILTIN_PRELUDES.data!.source);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/mine.ts`, "const mine = 1;");
    assert.deepEqual(await choosePrelude(`${dir}/mine.ts`), { source: "const mine = 1;" });
    await assert.rejects(() => choosePrelude(`${dir}/absent.ts`), Deno.errors.NotFound);
    await Deno.writeTextFile(`${dir}/npm.ts`, 'import ms from "npm:ms@2.1.3";');
    assert.equal((await choosePrelude(`${dir}/npm.ts`, ["ms"])).source.length, 30);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
