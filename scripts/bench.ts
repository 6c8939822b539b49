/**
 * `deno task bench`: every figure beside its floor measured in the same run, because these
 * machines are noisy. Prints a table and writes JSON to `bench/results/`.
 *
 * `--quick` runs each workload small and once: a smoke test for CI that checks the harness
 * runs, not the timings.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { parseConfig } from "../src/config.ts";
import { Host, type HostOptions } from "../src/host.ts";
import { KernelHandle } from "../src/kernel/kernel_handle.ts";
import { sandboxFlags } from "../src/kernel/sandbox_process.ts";
import { setLogLevel } from "../src/log.ts";
import { createHttpHandler } from "../src/mcp/http.ts";
import { openRegistry } from "../src/registry/open_registry.ts";
import { initializeRequest, ROOT, startHostProcess } from "./host_process.ts";

const quick = Deno.args.includes("--quick");
setLogLevel("warn");

const STARTS = quick ? 2 : 15;
const CELLS = quick ? 30 : 2000;

/** One row of the table: the project's figure, and its floor from this run. */
interface Row {
  name: string;
  workload: string;
  reps: number;
  median: number;
  min?: number;
  p99?: number;
  unit: "ms" | "MB" | "cells/s";
  floor?: { name: string; median: number };
  goal?: string;
}

const rows: Row[] = [];

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), min: s[0], p99: at(0.99) };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function temp(prefix: string) {
  const dir = await Deno.makeTempDir({ prefix });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const { dataDir: _dataDir, ...configDefaults } = parseConfig([], {});
/** The host's defaults, except that nothing is saved or culled while a figure is measured. */
const HOST_DEFAULTS: Omit<HostOptions, "dataDir" | "registry"> = {
  ...configDefaults,
  preludeSource: "",
  saveInterval: 3600,
  saveEvery: 1_000_000,
  idleTimeout: 3600,
  shutdownGrace: 5,
};

/** The one place bench constructs a host: the defaults above, on a registry in `dataDir`. */
async function openBenchHost(
  options: Partial<Omit<HostOptions, "registry">> & { dataDir: string },
): Promise<Host> {
  return new Host({
    ...HOST_DEFAULTS,
    ...options,
    registry: await openRegistry({ dataDir: options.dataDir }),
  });
}

// ---- floors: a bare Worker, and a bare sandbox (same flags, bare Worker, same pipes) ----

async function bareWorker() {
  const url = new URL("./bench/bare_worker.ts", import.meta.url);
  const start: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    let w!: Worker;
    start.push(
      await time(() =>
        new Promise((resolve) => {
          w = new Worker(url, { type: "module" });
          w.onmessage = resolve;
        })
      ),
    );
    w.terminate();
  }
  const w = new Worker(url, { type: "module" });
  await new Promise((r) => w.onmessage = r);
  const trip: number[] = [];
  for (let i = 0; i < CELLS; i++) {
    trip.push(
      await time(() =>
        new Promise((resolve) => {
          w.onmessage = resolve;
          w.postMessage("x");
        })
      ),
    );
  }
  w.terminate();
  return { start, trip };
}

/** A scratch folder for the floor's sandboxes, which write nothing but get the same flags. */
const floorScratch = await Deno.makeTempDir({ prefix: "mkh-bench-floor-" });

function spawnBareSandbox(): Deno.ChildProcess {
  const dir = fileURLToPath(new URL("./bench/", import.meta.url));
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...sandboxFlags({ read: [floorScratch, dir], write: [floorScratch], memoryLimitMb: 512 }),
      join(dir, "bare_sandbox.ts"),
    ],
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function bareSandbox() {
  const start: number[] = [];
  const trip: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t = performance.now();
    const child = spawnBareSandbox();
    const writer = child.stdin.getWriter();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read();
    start.push(performance.now() - t);
    if (i === 0) {
      for (let j = 0; j < CELLS; j++) {
        trip.push(
          await time(async () => {
            await writer.write(new TextEncoder().encode("x\n"));
            await reader.read();
          }),
        );
      }
    }
    await writer.close();
    await reader.cancel();
    await child.status;
  }
  return { start, trip };
}

// ---- 1, 2: kernel start and a trivial cell through the host API ----

async function kernelFigures(
  floors: { sandboxStart: number[]; pipeTrip: number[]; workerStart: number[] },
) {
  await using t = await temp("mkh-bench-");
  const start: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    let k!: KernelHandle;
    start.push(
      await time(async () => {
        k = await KernelHandle.start({ scratchDir: join(t.dir, "files") });
        await k.execute("1");
      }),
    );
    await k.close();
  }
  const s = stats(start);
  const sandbox = stats(floors.sandboxStart);
  rows.push({
    name: "kernel start to first result",
    workload: "KernelHandle.start + execute('1')",
    reps: STARTS,
    ...s,
    unit: "ms",
    floor: { name: "bare sandbox: same flags, bare Worker, first line", median: sandbox.median },
    goal: "≤ 1.5×",
  });
  rows.push({
    name: "kernel start vs bare Worker",
    workload: "as above",
    reps: STARTS,
    ...s,
    unit: "ms",
    floor: { name: "bare Worker spawn in-process", median: stats(floors.workerStart).median },
  });

  const host = await openBenchHost({ dataDir: t.dir });
  try {
    const id = await host.createKernel();
    await host.execute(id, "let x = 0");
    const cell: number[] = [];
    for (let i = 0; i < CELLS; i++) cell.push(await time(() => host.execute(id, "x = x + 1")));
    rows.push({
      name: "trivial cell, host API",
      workload: "Host.execute('x = x + 1')",
      reps: CELLS,
      ...stats(cell),
      unit: "ms",
      floor: {
        name: "pipe + postMessage round trip to a bare sandbox",
        median: stats(floors.pipeTrip).median,
      },
      goal: "≤ 3×",
    });
  } finally {
    await host.shutdown();
  }
}

// ---- 3: a trivial cell end to end over MCP, stdio and HTTP ----

async function mcpFigures(floorMedian: number) {
  await using t = await temp("mkh-bench-");
  const clients: [string, () => Promise<{ client: Client; close(): Promise<void> }>][] = [
    ["stdio", async () => {
      const transport = new StdioClientTransport({
        command: Deno.execPath(),
        args: ["run", "-A", "main.ts", "--stdio", "--data-dir", t.dir, "--log-level", "warn"],
        cwd: ROOT,
        stderr: "inherit",
      });
      const client = new Client({ name: "bench", version: "1" });
      await client.connect(transport);
      return { client, close: () => client.close() };
    }],
    ["HTTP", async () => {
      const host = await openBenchHost({ dataDir: join(t.dir, "http") });
      const handler = createHttpHandler({ host, log: () => {} });
      const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler.fetch);
      const client = new Client({ name: "bench", version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${server.addr.port}/mcp`)),
      );
      return {
        client,
        async close() {
          await client.close();
          await handler.close();
          await server.shutdown();
          await host.shutdown();
        },
      };
    }],
  ];
  for (const [name, connect] of clients) {
    const { client, close } = await connect();
    try {
      await client.callTool({ name: "execute", arguments: { code: "let x = 0" } });
      const samples: number[] = [];
      for (let i = 0; i < CELLS; i++) {
        samples.push(
          await time(() => client.callTool({ name: "execute", arguments: { code: "x = x + 1" } })),
        );
      }
      rows.push({
        name: `trivial cell over MCP ${name}`,
        workload: "SDK Client callTool execute('x = x + 1')",
        reps: CELLS,
        ...stats(samples),
        unit: "ms",
        floor: { name: "pipe + postMessage round trip to a bare sandbox", median: floorMedian },
        goal: "p50 ≤ 1 ms",
      });
    } finally {
      await close();
    }
  }
}

// ---- 4: snapshots vs JSON.stringify / JSON.parse of the same data in the same kernel ----

interface SnapshotRow {
  workload: string;
  saveMs: number;
  stringifyMs: number;
  restoreMs: number;
  parseMs: number;
  bytes: number;
  jsonBytes: number;
}

async function snapshotFigures(): Promise<SnapshotRow[]> {
  const n = (full: number, small: number) => quick ? small : full;
  const workloads: [string, string, string][] = [
    [
      `${n(1000, 10)} small variables`,
      `for (let i = 0; i < ${n(1000, 10)}; i++) globalThis["v" + i] = { i, s: "value " + i };`,
      `Object.fromEntries(Object.keys(globalThis).filter((k) => /^v\\d+$/.test(k)).map((k) => [k, globalThis[k]]))`,
    ],
    [
      `${n(100_000, 1000)} records {a, b, c: [1, 2, 3]}`,
      `const data = Array.from({ length: ${
        n(100_000, 1000)
      } }, (_, i) => ({ a: i, b: "row " + i, c: [1, 2, 3] }))`,
      "data",
    ],
    [
      `${n(1_000_000, 1000)} floats in an Array`,
      `const data = Array.from({ length: ${n(1_000_000, 1000)} }, () => Math.random())`,
      "data",
    ],
    [
      `${n(1_000_000, 1000)} floats in a Float64Array`,
      `const data = Float64Array.from({ length: ${n(1_000_000, 1000)} }, () => Math.random())`,
      "Array.from(data)",
    ],
    [
      `${n(200, 5)} functions, a class and ${n(1000, 10)} instances`,
      `for (let i = 0; i < ${
        n(200, 5)
      }; i++) globalThis["f" + i] = new Function("a", "return a + " + i);
       class Point { constructor(x, y) { this.x = x; this.y = y } norm() { return Math.hypot(this.x, this.y) } }
       const points = Array.from({ length: ${n(1000, 10)} }, (_, i) => new Point(i, i + 1))`,
      `({ fns: Object.keys(globalThis).filter((k) => /^f\\d+$/.test(k)).map((k) => String(globalThis[k])), points, cls: String(Point) })`,
    ],
  ];
  const reps = quick ? 1 : 5;
  await using t = await temp("mkh-bench-");
  const out: SnapshotRow[] = [];
  for (const [workload, define, plain] of workloads) {
    await using source = await KernelHandle.start({
      scratchDir: join(t.dir, "a"),
      memoryLimitMb: 4096,
    });
    const defined = await source.execute(define);
    if (defined.status !== "ok") throw new Error(`${workload}: ${defined.error?.message}`);
    // Inside a function, so the measurement adds nothing to the namespace.
    const floor = await source.execute(`(() => {
      const value = ${plain}; const s = [], p = []; let text;
      for (let i = 0; i < ${reps}; i++) {
        let t = performance.now(); text = JSON.stringify(value); s.push(performance.now() - t);
        t = performance.now(); JSON.parse(text); p.push(performance.now() - t);
      }
      const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
      return JSON.stringify([med(s), med(p), text.length]);
    })()`);
    const [stringifyMs, parseMs, jsonBytes] = JSON.parse(JSON.parse(floor.data!["text/plain"]));
    const save: number[] = [];
    let body = "";
    for (let i = 0; i < reps; i++) {
      save.push(await time(async () => body = (await source.snapshot()).body));
    }
    const restore: number[] = [];
    for (let i = 0; i < reps; i++) {
      await using target = await KernelHandle.start({
        scratchDir: join(t.dir, "b"),
        memoryLimitMb: 4096,
      });
      restore.push(
        await time(async () => {
          const report = await target.restore(body);
          if (report.skipped.length) {
            throw new Error(`${workload}: not restored ${JSON.stringify(report.skipped)}`);
          }
        }),
      );
    }
    out.push({
      workload,
      saveMs: stats(save).median,
      stringifyMs,
      restoreMs: stats(restore).median,
      parseMs,
      bytes: body.length,
      jsonBytes,
    });
  }
  return out;
}

// ---- 5: idle memory per live kernel ----

function rssBytes(pid: number): number {
  const [, resident] = Deno.readTextFileSync(`/proc/${pid}/statm`).split(" ");
  return Number(resident) * 4096;
}

async function memoryFigures() {
  const counts = quick ? [2] : [10, 50, 200];
  // Floor: bare sandboxes (same flags, bare Worker), idle.
  const bare: Deno.ChildProcess[] = [];
  for (let i = 0; i < 10; i++) {
    const child = spawnBareSandbox();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read();
    reader.releaseLock();
    bare.push(child);
  }
  await new Promise((r) => setTimeout(r, 500));
  const floor = bare.reduce((n, c) => n + rssBytes(c.pid), 0) / bare.length / 2 ** 20;
  for (const c of bare) {
    c.kill("SIGKILL");
    await c.status;
  }
  await using t = await temp("mkh-bench-");
  for (const count of counts) {
    const kernels: KernelHandle[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const k = await KernelHandle.start({ scratchDir: join(t.dir, String(i)) });
        await k.execute("let x = 1");
        kernels.push(k);
      }
      await new Promise((r) => setTimeout(r, 500));
      const perKernel = kernels.reduce((n, k) => n + rssBytes(k.pid), 0) / count / 2 ** 20;
      rows.push({
        name: `idle memory per kernel, ${count} live`,
        workload: `${count} kernels after one cell, resident set of each sandbox process`,
        reps: 1,
        median: perKernel,
        unit: "MB",
        floor: { name: "idle bare sandbox with its Worker", median: floor },
        goal: "≤ 1.3×",
      });
    } finally {
      await Promise.all(kernels.map((k) => k.close()));
    }
  }
}

// ---- 6: time until a host with many stored sessions serves its first request ----

async function startupFigures() {
  const sessions = quick ? 100 : 10_000;
  const measure = async (dataDir: string) => {
    const t = performance.now();
    const host = await startHostProcess(["--data-dir", dataDir]);
    const response = await fetch(host.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify(initializeRequest(1, "bench")),
    });
    await response.body?.cancel();
    const elapsed = performance.now() - t;
    host.process.kill("SIGKILL");
    await host.process.status;
    return elapsed;
  };
  await using empty = await temp("mkh-bench-");
  await using full = await temp("mkh-bench-");
  const registry = await openRegistry({ dataDir: full.dir });
  const now = Date.now();
  for (let i = 0; i < sessions; i++) {
    const id = `session-${i}`;
    await registry.createSession({ id, now: now - i, metadata: { initialize: {} } });
    await registry.createKernel({ id, ownerSession: id, now: now - i });
  }
  await registry.close();
  const floorRuns: number[] = [];
  const runs: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    floorRuns.push(await measure(empty.dir));
    runs.push(await measure(full.dir));
  }
  rows.push({
    name: `first request served, ${sessions.toLocaleString("en-US")} stored sessions`,
    workload: "spawn main.ts → listening → initialize answered",
    reps: runs.length,
    ...stats(runs),
    unit: "ms",
    floor: { name: "the same with an empty registry", median: stats(floorRuns).median },
    goal: "< 500 ms",
  });
}

// ---- 7: throughput with 1, 4 and 16 sessions at once ----

async function throughputFigures() {
  const seconds = quick ? 0.5 : 3;
  for (const sessions of [1, 4, 16]) {
    await using t = await temp("mkh-bench-");
    const host = await openBenchHost({ dataDir: t.dir, maxKernels: 16 });
    try {
      const ids = await Promise.all(Array.from({ length: sessions }, () => host.createKernel()));
      await Promise.all(ids.map((id) => host.execute(id, "let x = 0")));
      let cells = 0;
      const end = performance.now() + seconds * 1000;
      await Promise.all(ids.map(async (id) => {
        while (performance.now() < end) {
          await host.execute(id, "x = x + 1");
          cells++;
        }
      }));
      rows.push({
        name: `throughput, ${sessions} session${sessions > 1 ? "s" : ""} at once`,
        workload: `each runs x = x + 1 back to back for ${seconds} s (Host API, cap 16)`,
        reps: cells,
        median: cells / seconds,
        unit: "cells/s",
      });
    } finally {
      await host.shutdown();
    }
  }
}

const worker = await bareWorker();
const sandbox = await bareSandbox();
rows.push(
  {
    name: "bare Worker start",
    workload: "new Worker → first message",
    reps: STARTS,
    ...stats(worker.start),
    unit: "ms",
  },
  {
    name: "bare sandbox start",
    workload: "process with kernel flags + bare Worker → first line",
    reps: STARTS,
    ...stats(sandbox.start),
    unit: "ms",
  },
  {
    name: "postMessage round trip",
    workload: "echo Worker",
    reps: CELLS,
    ...stats(worker.trip),
    unit: "ms",
  },
  {
    name: "pipe + postMessage round trip",
    workload: "stdin line → bare sandbox's Worker → stdout line",
    reps: CELLS,
    ...stats(sandbox.trip),
    unit: "ms",
  },
);
await kernelFigures({
  sandboxStart: sandbox.start,
  pipeTrip: sandbox.trip,
  workerStart: worker.start,
});
await mcpFigures(stats(sandbox.trip).median);
const snapshots = await snapshotFigures();
await memoryFigures();
await startupFigures();
await throughputFigures();

const show = (v: number, unit: Row["unit"]) =>
  unit === "ms"
    ? (v < 1 ? `${(v * 1000).toFixed(0)} µs` : `${v.toFixed(v < 10 ? 2 : 1)} ms`)
    : `${v.toFixed(unit === "MB" ? 1 : 0)} ${unit}`;
console.log(
  `${"figure".padEnd(44)} ${"median".padStart(10)} ${"p99".padStart(10)} ${"floor".padStart(10)} ${
    "ratio".padStart(7)
  }  goal`,
);
for (const r of rows) {
  const ratio = r.floor ? `${(r.median / r.floor.median).toFixed(2)}×` : "";
  console.log(
    `${r.name.padEnd(44)} ${show(r.median, r.unit).padStart(10)} ${
      (r.p99 !== undefined ? show(r.p99, r.unit) : "").padStart(10)
    } ${(r.floor ? show(r.floor.median, r.unit) : "").padStart(10)} ${ratio.padStart(7)}  ${
      r.goal ?? ""
    }`,
  );
}
console.log(
  `\n${"snapshot".padEnd(44)} ${"save".padStart(10)} ${"stringify".padStart(10)} ${
    "restore".padStart(10)
  } ${"parse".padStart(10)} ${"bytes".padStart(12)}`,
);
for (const s of snapshots) {
  console.log(
    `${s.workload.padEnd(44)} ${show(s.saveMs, "ms").padStart(10)} ${
      show(s.stringifyMs, "ms").padStart(10)
    } ${show(s.restoreMs, "ms").padStart(10)} ${show(s.parseMs, "ms").padStart(10)} ${
      s.bytes.toLocaleString("en-US").padStart(12)
    }  save ${(s.saveMs / s.stringifyMs).toFixed(1)}×, restore ${
      (s.restoreMs / s.parseMs).toFixed(1)
    }× (goal ≤ 2×)`,
  );
}
const out = new URL("../bench/results/", import.meta.url);
await Deno.mkdir(out, { recursive: true });
const file = new URL(`bench-${new Date().toISOString().replaceAll(":", "-")}.json`, out);
await Deno.writeTextFile(
  file,
  JSON.stringify(
    { quick, deno: Deno.version.deno, cores: navigator.hardwareConcurrency, rows, snapshots },
    null,
    2,
  ),
);
await Deno.remove(floorScratch, { recursive: true });
console.log(`\nwritten ${fileURLToPath(file)}`);
