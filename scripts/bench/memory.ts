/**
 * Figure 5: idle resident memory per live kernel, against an idle bare sandbox.
 *
 * @module
 */
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { KernelHandle } from "../../src/kernel/kernel_handle.ts";
import { residentBytes } from "../../src/kernel/resident_memory.ts";
import { spawnBareSandbox } from "./floors.ts";
import { type Row, type Sizes, temp } from "./harness.ts";

/** How long processes sit idle before their memory is read. */
const SETTLE_MS = 500;

/**
 * Measures 10 idle bare sandboxes, then 10, 50 and 200 live kernels (2 with `--quick`).
 *
 * @param scratchDir The bare sandboxes' scratch folder.
 */
export async function memoryFigures(sizes: Sizes, scratchDir: string): Promise<Row[]> {
  const counts = sizes.quick ? [2] : [10, 50, 200];
  const bare: Deno.ChildProcess[] = [];
  for (let i = 0; i < 10; i++) {
    const child = spawnBareSandbox(scratchDir);
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read();
    reader.releaseLock();
    bare.push(child);
  }
  await delay(SETTLE_MS);
  const floor = await meanResidentMb(bare.map((c) => c.pid));
  for (const c of bare) {
    c.kill("SIGKILL");
    await c.status;
  }
  await using t = await temp("mkh-bench-");
  const rows: Row[] = [];
  for (const count of counts) {
    const kernels: KernelHandle[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const k = await KernelHandle.start({ scratchDir: join(t.dir, String(i)) });
        await k.execute("let x = 1");
        kernels.push(k);
      }
      await delay(SETTLE_MS);
      rows.push({
        name: `idle memory per kernel, ${count} live`,
        workload: `${count} kernels after one cell, resident set of each sandbox process`,
        reps: 1,
        median: await meanResidentMb(kernels.map((k) => k.pid)),
        unit: "MB",
        floor: { name: "idle bare sandbox with its Worker", median: floor },
        goal: "≤ 1.15×",
      });
    } finally {
      await Promise.all(kernels.map((k) => k.close()));
    }
  }
  return rows;
}

async function meanResidentMb(pids: number[]): Promise<number> {
  let total = 0;
  for (const pid of pids) {
    const bytes = await residentBytes(pid);
    if (bytes === null) throw new Error(`Cannot measure memory: no resident set for pid ${pid}`);
    total += bytes;
  }
  return total / pids.length / 2 ** 20;
}
