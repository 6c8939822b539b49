/**
 * A realistic data notebook, played over HTTP by the SDK's real Client against a real host with
 * the default settings: a 100,000-row CSV parsed by papaparse and d3-dsv, an arquero table, a
 * vega View, session functions, classes (one with static state) and instances, an error of a
 * session class, an Intl formatter, a closure and a million floats. After a host restart, an
 * eviction, a timeout and a kill -9 of a real host process, every variable works again or is
 * named in `lost`.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { parseConfig } from "../src/config.ts";
import { startHostProcess } from "../testing/host_process.ts";
import { serveHttp } from "./_http.ts";
import { waitFor } from "./_processes.ts";

const { dataDir: _dataDir, ...DEFAULTS } = parseConfig([], {});

/** The notebook's cells, in order. */
const CELLS = [
  `let csv = "id,group,value\\n";
for (let i = 0; i < 100_000; i++) csv += \`\${i},g\${i % 7},\${(i * 37) % 1000 / 10}\\n\`;
await Deno.writeTextFile("data.csv", csv);
csv = undefined;`,
  `import Papa from "npm:papaparse@5";
import { csvParse, autoType } from "npm:d3-dsv@3";
const text = await Deno.readTextFile("data.csv");
const rows = Papa.parse(text, { header: true, dynamicTyping: true, skipEmptyLines: true }).data;
const typed = csvParse(text, autoType);
import * as d3 from "npm:d3-array@3";
const byGroupRows = d3.group(typed, (d) => d.group);
const index = new Map(typed.slice(0, 20_000).map((d) => [d.id, d]));
rows.length + typed.length`,
  `import * as aq from "npm:arquero@7";
const table = aq.from(rows);
const byGroup = table.groupby("group").rollup({ n: aq.op.count(), mean: aq.op.mean("value") });
const op = aq.op;
const ranked = table.filter((d) => d.value > 50).orderby(aq.desc("value"));
const grouped = table.groupby("group");
byGroup.numRows()`,
  `import * as vega from "npm:vega@6";
import * as vl from "npm:vega-lite@6";
const spec = vl.compile({
  data: { values: byGroup.objects() },
  mark: "bar",
  encoding: { x: { field: "group", type: "nominal" }, y: { field: "mean", type: "quantitative" } },
}).spec;
const view = new vega.View(vega.parse(spec), { renderer: "none" });
await view.runAsync();
view.data("source_0").length`,
  `function topGroups(t: typeof table, k: number) {
  return t.groupby("group").rollup({ n: aq.op.count() }).orderby(aq.desc("n")).objects().slice(0, k);
}
class Summary {
  constructor(public name: string, public values: number[]) {}
  mean(): number { return this.values.reduce((a, b) => a + b, 0) / this.values.length; }
}
class Weighted extends Summary {
  weight = 2;
  weightedMean(): number { return this.mean() * this.weight; }
}
const summary = new Weighted("value", rows.slice(0, 10).map((r) => r.value));
function mk(start: number) { return () => ++start; }
const next = mk(10);
const floats = new Float64Array(1_000_000).map((_, i) => i / 2);
const settings = { bins: 20, when: new Date(0), tags: new Set(["a"]) };`,
  `class HttpError extends Error {
  constructor(public status: number, message: string) { super(message); }
}
const failure = new HttpError(503, "service unavailable");
class Cache {
  static hits = 0;
  static seen = new Map<string, number>();
  static get(key: string) { Cache.hits++; Cache.seen.set(key, key.length); return key.length; }
}
Cache.get("alpha"); Cache.get("be");
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const query = new URLSearchParams({ group: "g1", limit: "10" });`,
];

/** Per variable, an expression that is true when it works (methods included). */
const CHECKS: Record<string, string> = {
  text: `text.length > 1_000_000`,
  rows: `rows.length === 100_000 && rows[99_999].id === 99_999`,
  typed: `typed.length === 100_000 && typed.columns.join() === "id,group,value"`,
  byGroupRows: `byGroupRows instanceof d3.InternMap && byGroupRows.get("g1").length > 14_000 && ` +
    `byGroupRows.get("g1")[0] === typed[1]`,
  index: `index.size === 20_000 && index.get(19_999) === typed[19_999]`,
  Papa: `Papa.parse("a\\n1").data.length === 2`,
  csvParse: `csvParse("a\\n1").length === 1`,
  autoType: `typeof autoType === "function"`,
  aq: `typeof aq.table === "function"`,
  table: `table.numRows() === 100_000 && table.filter((d) => d.id < 10).numRows() === 10`,
  byGroup: `byGroup.numRows() === 7 && byGroup.objects()[0].n > 14_000`,
  op: `table.groupby("group").rollup({ s: op.sum("value"), n: op.count() }).numRows() === 7`,
  ranked: `ranked.numRows() === 49_900 && ranked.objects({ limit: 1 })[0].value === 99.9`,
  grouped: `grouped.isGrouped() && grouped.rollup({ n: op.count() }).numRows() === 7`,
  vega: `typeof vega.View === "function"`,
  vl: `typeof vl.compile === "function"`,
  spec: `spec.marks.length === 1`,
  view: `view.data("source_0").length === 7`,
  topGroups: `topGroups(table, 2).length === 2`,
  Summary: `new Summary("x", [1, 3]).mean() === 2`,
  Weighted: `new Weighted("x", [2]).weightedMean() === 4`,
  summary: `summary instanceof Weighted && summary.weightedMean() === summary.mean() * 2`,
  mk: `mk(1)() === 2`,
  next: `next() > 10`,
  floats:
    `floats instanceof Float64Array && floats.length === 1_000_000 && floats[999_999] === 499_999.5`,
  settings: `settings.bins === 20 && settings.when.getTime() === 0 && settings.tags.has("a")`,
  HttpError: `new HttpError(404, "x").status === 404`,
  failure: `failure instanceof HttpError && failure.status === 503 && failure.message === ` +
    `"service unavailable"`,
  Cache: `Cache.hits === 2 && Cache.seen.get("alpha") === 5 && typeof Cache.get === "function"`,
  money: `money.format(1234.5) === "$1,234.50"`,
  query: `query.get("limit") === "10"`,
};

/** Variables that must come back working; the others may instead be named in `lost`. */
const MUST_WORK = Object.keys(CHECKS).filter((name) => !["view", "next"].includes(name));

const CHECK_CELL = `console.log(JSON.stringify({${
  Object.entries(CHECKS).map(([name, check]) =>
    `${name}: (() => { try { return (${check}) === true } catch (e) { return String(e) } })()`
  ).join(",\n")
}}))`;

/** Adds the variables a result names in `lost` to `announced`; returns its `lost`. */
function announce(result: Record<string, unknown>, announced: Set<string>): string {
  const lost = (result.lost as string | undefined) ?? "";
  for (const name of Object.keys(CHECKS)) {
    if (new RegExp(`(^|[ ,:])${name}([.\\[ ]|$)`).test(lost)) announced.add(name);
  }
  return lost;
}

/** A real server on a loopback port (a free one unless given) around a host on `dataDir`. */
function serve(dataDir: string, options: { port?: number; maxKernels?: number } = {}) {
  return serveHttp({ ...DEFAULTS, dataDir, maxKernels: options.maxKernels ?? 4 }, options.port);
}

async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: "notebook-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

async function run(
  client: Client,
  code: string,
  args: { kernel?: string; timeout_ms?: number } = {},
): Promise<Record<string, unknown>> {
  const r = await client.callTool({ name: "execute", arguments: { code, ...args } });
  return r.structuredContent as Record<string, unknown>;
}

/**
 * Asserts that no variable was lost silently: each works, or is named in this result's `lost`
 * or an earlier one (`announced`, which this adds to), and those in MUST_WORK work.
 */
function assertNoSilentLoss(
  result: Record<string, unknown>,
  event: string,
  announced: Set<string>,
): void {
  assert.equal(result.status, "ok", `${event}: ${JSON.stringify(result.error)}`);
  const outcome = JSON.parse(result.stdout as string) as Record<string, unknown>;
  const lost = announce(result, announced);
  for (const [name, ok] of Object.entries(outcome)) {
    if (ok === true) continue;
    assert.ok(!MUST_WORK.includes(name), `${event}: ${name} does not work: ${ok}; lost: ${lost}`);
    assert.ok(
      announced.has(name),
      `${event}: ${name} does not work (${ok}) and was never named in lost; lost: ${lost}`,
    );
  }
}

Deno.test("a data notebook over HTTP loses nothing silently across a restart, an eviction and a timeout", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-notebook-" });
  try {
    let port: number;
    const client = await (async () => {
      await using first = await serve(dataDir);
      port = first.port;
      const client = await connect(first.url);
      for (const cell of CELLS) {
        const r = await run(client, cell);
        assert.equal(r.status, "ok", `${cell}\n${JSON.stringify(r.error)}`);
      }
      const before = await run(client, CHECK_CELL);
      assert.deepEqual(
        Object.values(JSON.parse(before.stdout as string)).filter((ok) => ok !== true),
        [],
        "every check holds before any restart",
      );
      return client;
    })();

    // A SIGTERM's path: the host saves every kernel and stops; a new one resumes the session.
    await using _second = await serve(dataDir, { port: port!, maxKernels: 1 });
    const restarted = await run(client, CHECK_CELL);
    assert.ok(restarted.restored_from, "the kernel came back from its snapshot");
    const announced = new Set<string>();
    assertNoSilentLoss(restarted, "after a host restart", announced);

    // An eviction: with room for one kernel, a second one pushes the notebook's out.
    const created = await client.callTool({ name: "create_kernel", arguments: {} });
    const other = (created.structuredContent as { kernel: string }).kernel;
    assert.equal((await run(client, "1", { kernel: other })).status, "ok");
    const evicted = await run(client, CHECK_CELL);
    assert.ok(evicted.restored_from, "the evicted kernel came back from its snapshot");
    assertNoSilentLoss(evicted, "after an eviction", announced);

    // A timeout: the cell is stopped (by a restart from the latest snapshot, whose result then
    // says what was lost, or by an interrupt that keeps every variable).
    const stuck = await run(client, "while (true) {}", { timeout_ms: 500 });
    assert.equal(stuck.status, "timeout");
    announce(stuck, announced);
    const afterTimeout = await run(client, CHECK_CELL);
    assertNoSilentLoss(afterTimeout, "after a timeout", announced);
    assert.ok(announced.has("next"), "the closure is named as lost");
    await client.close();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the same notebook on a real host process killed with kill -9 names what it lost", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-notebook-kill-" });
  try {
    const first = await startHostProcess(["--data-dir", dataDir]);
    const client = await connect(new URL(first.url));
    let kernel = "";
    for (const cell of CELLS) {
      const r = await run(client, cell);
      assert.equal(r.status, "ok", `${cell}\n${JSON.stringify(r.error)}`);
      kernel = r.kernel as string;
    }
    // Under the default flags a kernel is saved after 10 requests: make them, wait for the save.
    for (let i = 0; i < 5; i++) assert.equal((await run(client, CHECK_CELL)).status, "ok");
    assert.ok(
      await waitFor(async () => {
        const info = await client.callTool({ name: "kernel_info", arguments: {} });
        return (info.structuredContent as { last_saved_at: string | null }).last_saved_at !== null;
      }, 20_000),
      "the periodic save happened",
    );
    assert.equal((await run(client, "const extra = [1, 2]; extra.length")).status, "ok");
    first.process.kill("SIGKILL");
    await first.process.status;
    await client.close().catch(() => {});

    const second = await startHostProcess(["--data-dir", dataDir]);
    try {
      // A new session reaches the kernel by the id every result reported.
      const again = await connect(new URL(second.url));
      const back = await run(again, CHECK_CELL, { kernel });
      assert.ok(back.restored_from, "the kernel came back from its last save");
      const announced = new Set<string>();
      assertNoSilentLoss(back, "after kill -9", announced);
      assert.match(String(back.lost), /ran after the last save and (was|were) lost.*extra/);
      await again.close();
    } finally {
      second.process.kill("SIGTERM");
      await second.process.status;
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
