/**
 * Figures 1 and 2: a kernel's start to its first result, against a bare sandbox and a bare
 * Worker, and with a spare sandbox ready, against the cold start; a spare's memory; and a
 * trivial cell through the host API, against a pipe round trip.
 *
 * @module
 */
import { join } from "node:path";
import { KernelHandle } from "../../src/kernel/kernel_handle.ts";
import { SandboxedKernels } from "../../src/sandboxed_kernels.ts";
import type { KernelHooks } from "../../src/supervisor/kernel_factory.ts";
import type { Floors } from "./floors.ts";
import { openBenchHost, type Row, type Sizes, stats, temp, time } from "./harness.ts";

/** Measures kernel starts and trivial cells through `Host.execute`. */
export async function kernelFigures(sizes: Sizes, floors: Floors): Promise<Row[]> {
  await using t = await temp("mkh-bench-");
  const rows: Row[] = [];
  const start: number[] = [];
  for (let i = 0; i < sizes.starts; i++) {
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
    reps: sizes.starts,
    ...s,
    unit: "ms",
    floor: { name: "bare sandbox: same flags, bare Worker, first line", median: sandbox.median },
    goal: "≤ 1.3×",
  });
  rows.push({
    name: "kernel start vs bare Worker",
    workload: "as above",
    reps: sizes.starts,
    ...s,
    unit: "ms",
    floor: { name: "bare Worker spawn in-process", median: stats(floors.workerStart).median },
  });

  rows.push(...await spareFigures(sizes, s.median));

  const host = await openBenchHost({ dataDir: t.dir });
  try {
    const id = await host.createKernel();
    await host.execute(id, "let x = 0");
    const cell: number[] = [];
    for (let i = 0; i < sizes.cells; i++) {
      cell.push(await time(() => host.execute(id, "x = x + 1")));
    }
    rows.push({
      name: "trivial cell, host API",
      workload: "Host.execute('x = x + 1')",
      reps: sizes.cells,
      ...stats(cell),
      unit: "ms",
      floor: {
        name: "pipe + postMessage round trip to a bare sandbox",
        median: stats(floors.pipeTrip).median,
      },
      goal: "≤ 2×",
    });
  } finally {
    await host.shutdown();
  }
  rows.push(await interruptCost(sizes, join(t.dir, "files")));
  return rows;
}

/**
 * A new kernel's start to its first result when a spare is ready (the host's factory binds it),
 * beside the cold start; and the resident memory of an idle spare, beside a kernel after one cell.
 */
async function spareFigures(sizes: Sizes, coldMedian: number): Promise<Row[]> {
  await using t = await temp("mkh-bench-spare-");
  const kernels = new SandboxedKernels({ dataDir: t.dir, spares: 1 });
  const hooks: KernelHooks = {
    executionCount: 0,
    slot: null,
    recordSlot: () => Promise.resolve(),
    onRestart: () => Promise.resolve({ lost: "everything" }),
  };
  const bound: number[] = [];
  const spareMb: number[] = [];
  const kernelMb: number[] = [];
  try {
    for (let i = 0; i < sizes.starts; i++) {
      // The refill starts a moment after each take: wait until a spare is up.
      while (await kernels.sparesReady() < 1) await new Promise((r) => setTimeout(r, 20));
      spareMb.push(...(await kernels.spareMemory()).map((b) => b / 2 ** 20));
      let k!: Awaited<ReturnType<typeof kernels.start>>;
      bound.push(
        await time(async () => {
          k = await kernels.start(`bench-${i}`, hooks);
          await k.execute("1");
        }),
      );
      kernelMb.push((await k.memoryBytes() ?? 0) / 2 ** 20);
      await k.close();
    }
    if (kernels.counts.cold > 0) throw new Error("Cannot measure spare starts: one started cold");
  } finally {
    await kernels.close();
  }
  return [
    {
      name: "kernel start to first result, a spare ready",
      workload: "the host's factory binds a ready spare + execute('1')",
      reps: sizes.starts,
      ...stats(bound),
      unit: "ms",
      floor: { name: "cold start (kernel start to first result)", median: coldMedian },
      goal: "≤ 5 ms",
    },
    {
      name: "spare sandbox memory, idle",
      workload: "resident set of a ready spare, as it measures itself (not a kernel)",
      reps: spareMb.length,
      ...stats(spareMb),
      unit: "MB",
      floor: { name: "a kernel after its first cell", median: stats(kernelMb).median },
    },
  ];
}

/**
 * What arming the interrupt (V8's evaluation timeout and the deadlines) costs a trivial cell:
 * the same kernel, cells with their timeout and cells with none, in interleaved batches so
 * that the machine's drift falls on both alike.
 */
async function interruptCost(sizes: Sizes, scratchDir: string): Promise<Row> {
  await using k = await KernelHandle.start({ scratchDir });
  await k.execute("let y = 0");
  const armed: number[] = [];
  const unarmed: number[] = [];
  const batch = Math.max(10, Math.floor(sizes.cells / 20));
  for (let done = 0; done < sizes.cells; done += batch) {
    for (let i = 0; i < batch; i++) armed.push(await time(() => k.execute("y = y + 1")));
    for (let i = 0; i < batch; i++) {
      unarmed.push(await time(() => k.execute("y = y + 1", { timeoutMs: Infinity })));
    }
  }
  return {
    name: "trivial cell with the interrupt armed",
    workload: "KernelHandle.execute('y = y + 1'), with its timeout vs none",
    reps: armed.length,
    ...stats(armed),
    unit: "ms",
    floor: { name: "the same cell with no interrupt armed", median: stats(unarmed).median },
  };
}
