/**
 * Figure 9: what a save costs the agent. A call that reaches a kernel while a periodic save of
 * it runs waits only until the save gives way (persistence issue, item 6; goal ≤ 300 ms); its
 * floor is the same save made to finish, which is what that call used to wait. And a bystander:
 * another kernel's trivial cells while the large save runs, against the same cells with no save.
 *
 * @module
 */
import { join } from "node:path";
import { openBenchHost, type Row, type Sizes, stats, temp, time } from "./harness.ts";

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
