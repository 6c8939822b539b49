/**
 * `deno task bench`: each figure beside its floor measured in the same run, because these
 * machines are noisy. Prints a table and writes JSON to `bench/results/`.
 *
 * Options: `--quick` for a smoke run with few repetitions.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { KernelHandle } from "../src/kernel/kernel_handle.ts";

const quick = Deno.args.includes("--quick");
const STARTS = quick ? 3 : 15;
const CELLS = quick ? 50 : 2000;

interface Figure {
  name: string;
  workload: string;
  reps: number;
  minMs: number;
  medianMs: number;
  floor?: string;
  floorMedianMs?: number;
}

function stats(samples: number[]): { minMs: number; medianMs: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { minMs: sorted[0], medianMs: sorted[Math.floor(sorted.length / 2)] };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** A bare Worker: spawn until its first message, then echo round trips. */
async function bareWorker(): Promise<{ start: number[]; roundTrip: number[] }> {
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
  const roundTrip: number[] = [];
  for (let i = 0; i < CELLS; i++) {
    roundTrip.push(
      await time(() =>
        new Promise((resolve) => {
          w.onmessage = resolve;
          w.postMessage("x");
        })
      ),
    );
  }
  w.terminate();
  return { start, roundTrip };
}

/** A bare sandbox: a process with the kernel's flags spawning a bare Worker, echoing over pipes. */
async function bareSandbox(): Promise<{ start: number[]; roundTrip: number[] }> {
  const script = fileURLToPath(new URL("./bench/bare_sandbox.ts", import.meta.url));
  const dir = fileURLToPath(new URL("./bench/", import.meta.url));
  const spawn = () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-config",
        "--no-lock",
        "--no-prompt",
        "--unstable-worker-options",
        `--allow-read=${dir}`,
        script,
      ],
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  const start: number[] = [];
  const roundTrip: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t = performance.now();
    const child = spawn();
    const writer = child.stdin.getWriter();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read(); // "ready"
    start.push(performance.now() - t);
    if (i === 0) {
      for (let j = 0; j < CELLS; j++) {
        roundTrip.push(
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
  return { start, roundTrip };
}

async function kernel(): Promise<{ start: number[]; cell: number[] }> {
  const root = await Deno.makeTempDir({ prefix: "mkh-bench-" });
  const start: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    let k!: KernelHandle;
    start.push(
      await time(async () => {
        k = await KernelHandle.start({ scratchDir: `${root}/files` });
        await k.execute("1");
      }),
    );
    await k.close();
  }
  await using k = await KernelHandle.start({ scratchDir: `${root}/files` });
  await k.execute("let x = 0");
  const cell: number[] = [];
  for (let i = 0; i < CELLS; i++) cell.push(await time(() => k.execute("x = x + 1")));
  await Deno.remove(root, { recursive: true });
  return { start, cell };
}

interface SnapshotFigure {
  workload: string;
  saveMs: number;
  restoreMs: number;
  stringifyMs: number;
  parseMs: number;
  bytes: number;
  jsonBytes: number;
}

/**
 * Snapshot save (in-kernel walk + JSON + pipe to the host) and restore (pipe + parse + rebuild)
 * beside JSON.stringify / JSON.parse of the same data, timed inside the same kernel.
 */
async function snapshots(): Promise<SnapshotFigure[]> {
  const workloads: [string, string][] = [
    [
      "100,000 records {a, b, c: [1, 2, 3]}",
      "const data = Array.from({ length: 100_000 }, (_, i) => ({ a: i, b: `row ${i}`, c: [1, 2, 3] }))",
    ],
    [
      "1,000,000 floats in an Array",
      "const data = Array.from({ length: 1_000_000 }, () => Math.random())",
    ],
    [
      "1,000,000 floats in a Float64Array",
      "const data = Float64Array.from({ length: 1_000_000 }, () => Math.random())",
    ],
  ];
  const reps = quick ? 1 : 5;
  const root = await Deno.makeTempDir({ prefix: "mkh-bench-" });
  const out: SnapshotFigure[] = [];
  for (const [workload, define] of workloads) {
    await using source = await KernelHandle.start({ scratchDir: `${root}/a`, memoryLimitMb: 2048 });
    await source.execute(define);
    const floor = await source.execute(
      // Inside a function, so the measurement leaves nothing in the namespace to snapshot.
      `(() => {
         const plain = ArrayBuffer.isView(data) ? Array.from(data) : data;
         const times = { s: [], p: [] }; let text;
         for (let i = 0; i < ${reps}; i++) {
           let t = performance.now(); text = JSON.stringify({ data: plain }); times.s.push(performance.now() - t);
           t = performance.now(); JSON.parse(text); times.p.push(performance.now() - t);
         }
         const med = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
         return JSON.stringify([med(times.s), med(times.p), text.length]);
       })()`,
    );
    const [stringifyMs, parseMs, jsonBytes] = JSON.parse(JSON.parse(floor.result!));
    const save: number[] = [];
    let body = "";
    for (let i = 0; i < reps; i++) {
      save.push(await time(async () => body = (await source.snapshot()).body));
    }
    const restore: number[] = [];
    for (let i = 0; i < reps; i++) {
      await using target = await KernelHandle.start({
        scratchDir: `${root}/b`,
        memoryLimitMb: 2048,
      });
      restore.push(await time(() => target.restore(body)));
    }
    out.push({
      workload,
      saveMs: stats(save).medianMs,
      restoreMs: stats(restore).medianMs,
      stringifyMs,
      parseMs,
      bytes: body.length,
      jsonBytes,
    });
  }
  await Deno.remove(root, { recursive: true });
  return out;
}

const worker = await bareWorker();
const sandbox = await bareSandbox();
const k = await kernel();
const snaps = await snapshots();

const figures: Figure[] = [
  {
    name: "bare Worker start",
    workload: "new Worker → first message",
    reps: STARTS,
    ...stats(worker.start),
  },
  {
    name: "bare sandbox start",
    workload: "deno process with kernel flags + bare Worker → first line on stdout",
    reps: STARTS,
    ...stats(sandbox.start),
  },
  {
    name: "kernel start to first result",
    workload: "KernelHandle.start + execute('1')",
    reps: STARTS,
    ...stats(k.start),
    floor: "bare sandbox start",
    floorMedianMs: stats(sandbox.start).medianMs,
  },
  {
    name: "postMessage round trip",
    workload: "echo Worker",
    reps: CELLS,
    ...stats(worker.roundTrip),
  },
  {
    name: "pipe + postMessage round trip",
    workload: "stdin line → bare sandbox Worker → stdout line",
    reps: CELLS,
    ...stats(sandbox.roundTrip),
  },
  {
    name: "trivial cell round trip",
    workload: "KernelHandle.execute('x = x + 1')",
    reps: CELLS,
    ...stats(k.cell),
    floor: "pipe + postMessage round trip",
    floorMedianMs: stats(sandbox.roundTrip).medianMs,
  },
];

const fmt = (ms: number) => ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
console.log(
  `${"figure".padEnd(32)} ${"median".padStart(10)} ${"min".padStart(10)}  ratio to floor`,
);
for (const f of figures) {
  const ratio = f.floorMedianMs ? `${(f.medianMs / f.floorMedianMs).toFixed(2)}× ${f.floor}` : "";
  console.log(
    `${f.name.padEnd(32)} ${fmt(f.medianMs).padStart(10)} ${fmt(f.minMs).padStart(10)}  ${ratio}`,
  );
}
console.log(
  `\n${"snapshot workload".padEnd(36)} ${"save".padStart(9)} ${"stringify".padStart(10)} ${
    "ratio".padStart(6)
  } ${"restore".padStart(9)} ${"parse".padStart(9)} ${"ratio".padStart(6)} ${"bytes".padStart(11)}`,
);
for (const s of snaps) {
  console.log(
    `${s.workload.padEnd(36)} ${fmt(s.saveMs).padStart(9)} ${fmt(s.stringifyMs).padStart(10)} ${
      (s.saveMs / s.stringifyMs).toFixed(1).padStart(5)
    }× ${fmt(s.restoreMs).padStart(9)} ${fmt(s.parseMs).padStart(9)} ${
      (s.restoreMs / s.parseMs).toFixed(1).padStart(5)
    }× ${s.bytes.toLocaleString("en-US").padStart(11)}`,
  );
}
const out = new URL("../bench/results/", import.meta.url);
await Deno.mkdir(out, { recursive: true });
const file = new URL(`bench-${new Date().toISOString().replaceAll(":", "-")}.json`, out);
await Deno.writeTextFile(
  file,
  JSON.stringify({ quick, deno: Deno.version.deno, figures, snapshots: snaps }, null, 2),
);
console.log(`written ${fileURLToPath(file)}`);
