/**
 * Figure 9: what a save costs the agent. A call that reaches a kernel while a periodic save of
 * it runs waits only until the save gives way (persistence issue, item 6; goal ≤ 300 ms); its
 * floor is the same save made to finish, which is what that call used to wait. And a bystander:
 * another kernel's trivial cells while the large save runs, against the same cells with no save.
 * Then a save of about 100 MB (security and resource hardening issue, item 1): the bystander's
 * cells and the host's longest event-loop stall during it, and the registry's write and read of
 * that body on their own, each with the longest stall it caused.
 *
 * @module
 */
import { join } from "node:path";
import { openBenchHost, type Row, type Sizes, stats, temp, time } from "./harness.ts";
import type { NewSnapshot } from "../../src/registry/registry.ts";

/** Records like a parsed CSV's: about 22 MB of snapshot at 300,000. */
const rows = (n: number) =>
  `const rows = Array.from({ length: ${n} }, (_, i) => ` +
  `({ id: i, name: "row" + i, v: Math.random(), tags: ["a", "b"] })); rows.length`;

/** The waiting call, the save it waits on, and a bystander's cells during a save. */
export async function saveStallFigures(sizes: Sizes): Promise<Row[]> {
  const n = sizes.quick ? 10_000 : 300_000;
  const reps = sizes.quick ? 1 : 5;
  await using t = await temp("mkh-bench-stall-");
  // Saves only when asked: after each change, a periodic save is started by hand.
  const host = await openBenchHost({ dataDir: join(t.dir, "data") });
  try {
    const id = await host.createKernel({ persistent: true });
    const other = await host.createKernel({ persistent: true });
    await host.execute(id, rows(n));
    await host.execute(other, "let k = 0");
    const saves: number[] = [];
    const waits: number[] = [];
    const quiet: number[] = [];
    const during: number[] = [];
    for (let i = 0; i < reps; i++) {
      await host.execute(id, "rows[0].v = Math.random()");
      saves.push(await time(() => host.save(id)));
      await host.execute(id, "rows[0].v = Math.random()");
      const saving = host.save(id, { periodic: true });
      await new Promise((r) => setTimeout(r, 20));
      waits.push(await time(() => host.execute(id, "1")));
      await saving;

      for (let j = 0; j < 20; j++) quiet.push(await time(() => host.execute(other, "k++")));
      await host.execute(id, "rows[0].v = Math.random()");
      let saved = false;
      const save = host.save(id).then(() => saved = true);
      while (!saved) during.push(await time(() => host.execute(other, "k++")));
      await save;
    }
    const size = (await host.registry.listSnapshots(id))[0]?.size ?? 0;
    const mb = `${(size / 1e6).toFixed(1)} MB`;
    return [
      {
        name: `a call during a periodic save of ${n.toLocaleString("en-US")} records (${mb})`,
        workload: "execute('1') 20 ms into a periodic save of the same kernel",
        reps,
        ...stats(waits),
        unit: "ms",
        floor: { name: "the same save, made to finish", median: stats(saves).median },
        goal: "≤ 300 ms",
      },
      {
        name: "another kernel's trivial cell during that save",
        workload: "execute('k++') on a second kernel while the first saves",
        reps: during.length,
        ...stats(during),
        unit: "ms",
        floor: { name: "the same cells with no save running", median: stats(quiet).median },
        goal: "reported",
      },
    ];
  } finally {
    await host.shutdown();
  }
}

/**
 * How long `fn` takes to settle, and the event loop's worst lateness meanwhile: how much later
 * than due a 1 ms interval fired, at most (0 when the loop was never held up).
 */
async function withStall(fn: () => Promise<unknown>): Promise<{ ms: number; stall: number }> {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  try {
    const ms = await time(fn);
    // The interval's next firing shows a stall that lasted until the end.
    await new Promise((r) => setTimeout(r, 2));
    return { ms, stall: Math.max(worst, performance.now() - last - 1) };
  } finally {
    clearInterval(timer);
  }
}

/** A bystander's cells and the event loop during a save of about 100 MB (2 MB with `--quick`). */
export async function largeSaveFigures(sizes: Sizes): Promise<Row[]> {
  const mb = sizes.quick ? 2 : 100;
  const reps = sizes.quick ? 1 : 3;
  await using t = await temp("mkh-bench-large-save-");
  const host = await openBenchHost({ dataDir: join(t.dir, "data"), memoryLimit: 1024 });
  try {
    const id = await host.createKernel({ persistent: true });
    const other = await host.createKernel({ persistent: true });
    // Floats travel as their bytes, beside the body's JSON.
    const floats = Math.round(mb * 1e6 / 8);
    await host.execute(id, `const big = new Float64Array(${floats}).map(Math.random); 0`);
    await host.execute(other, "let k = 0");
    await host.registry.createKernel({ id: "bench-body", state: "stored", now: Date.now() });
    const quiet: number[] = [];
    const quietStalls: number[] = [];
    const during: number[] = [];
    const saveStalls: number[] = [];
    const writes: { ms: number; stall: number }[] = [];
    const reads: { ms: number; stall: number }[] = [];
    let size = 0;
    for (let i = 0; i < reps; i++) {
      quietStalls.push(
        (await withStall(async () => {
          for (let j = 0; j < 20; j++) quiet.push(await time(() => host.execute(other, "k++")));
        })).stall,
      );
      await host.execute(id, "big[0] = Math.random()");
      let saved = false;
      saveStalls.push(
        (await withStall(async () => {
          const save = host.save(id).then(() => saved = true);
          while (!saved) during.push(await time(() => host.execute(other, "k++")));
          await save;
        })).stall,
      );
      const [meta] = await host.registry.listSnapshots(id);
      const taken = await host.registry.loadSnapshot(id, meta!.version);
      size = meta!.size;
      const snapshot: NewSnapshot = { ...taken!, savedAt: Date.now() };
      writes.push(await withStall(() => host.registry.saveSnapshot("bench-body", snapshot, 1)));
      const [written] = await host.registry.listSnapshots("bench-body");
      reads.push(await withStall(() => host.registry.loadSnapshot("bench-body", written!.version)));
    }
    const body = `${(size / 1e6).toFixed(0)} MB`;
    const median = (xs: number[]) => stats(xs).median;
    return [
      {
        name: `another kernel's trivial cell during a ${body} save`,
        workload: `execute('k++') on a second kernel while ${floats} floats (${body}) save`,
        reps: during.length,
        ...stats(during),
        unit: "ms",
        floor: { name: "the same cells with no save running", median: median(quiet) },
        goal: "answered during the save",
      },
      {
        name: `the host's longest event-loop stall during that save`,
        workload: "worst lateness of a 1 ms interval, per save",
        reps,
        ...stats(saveStalls),
        unit: "ms",
        floor: { name: "the same during 20 cells, no save", median: median(quietStalls) },
        goal: "reported",
      },
      {
        name: `SQLite write of that ${body} body`,
        workload: "registry.saveSnapshot of the same body (pieces, then the row)",
        reps,
        ...stats(writes.map((w) => w.ms)),
        unit: "ms",
        floor: { name: "its longest event-loop stall", median: median(writes.map((w) => w.stall)) },
        goal: "reported",
      },
      {
        name: `SQLite read of that ${body} body`,
        workload: "registry.loadSnapshot of the same body",
        reps,
        ...stats(reads.map((r) => r.ms)),
        unit: "ms",
        floor: { name: "its longest event-loop stall", median: median(reads.map((r) => r.stall)) },
        goal: "reported",
      },
    ];
  } finally {
    await host.shutdown();
  }
}
