/**
 * Figure 7: cells per second through the host API with 1, 4 and 16 sessions at once.
 *
 * @module
 */
import { openBenchHost, type Row, type Sizes, temp } from "./harness.ts";

/** Runs `x = x + 1` back to back in each session's kernel for a fixed time. */
export async function throughputFigures(sizes: Sizes): Promise<Row[]> {
  const seconds = sizes.quick ? 0.5 : 3;
  const rows: Row[] = [];
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
  return rows;
}
