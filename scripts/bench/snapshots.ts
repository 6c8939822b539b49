/**
 * Figure 4: saving and restoring a kernel's state, against `JSON.stringify` and `JSON.parse` of
 * the same data measured inside the same kernel.
 *
 * @module
 */
import { join } from "node:path";
import { KernelHandle } from "../../src/kernel/kernel_handle.ts";
import { show, type Sizes, stats, temp, time } from "./harness.ts";

/** One workload's snapshot timings and their JSON floor, in ms and bytes. */
export interface SnapshotRow {
  workload: string;
  saveMs: number;
  stringifyMs: number;
  restoreMs: number;
  parseMs: number;
  bytes: number;
  jsonBytes: number;
}

/** Workloads: a label, a cell that defines the state, and an expression of it as plain data. */
function workloads(quick: boolean): [string, string, string][] {
  const n = (full: number, small: number) => quick ? small : full;
  return [
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
      `${n(100_000, 1000)} rows grouped in a Map, ${n(20_000, 200)} indexed by id in another`,
      `const rows = Array.from({ length: ${
        n(100_000, 1000)
      } }, (_, i) => ({ id: i, g: "g" + (i % 7), v: i / 3 }));
       const byGroup = new Map();
       for (const r of rows) { if (!byGroup.has(r.g)) byGroup.set(r.g, []); byGroup.get(r.g).push(r); }
       const index = new Map(rows.slice(0, ${n(20_000, 200)}).map((r) => [r.id, r]))`,
      // Without shared references JSON writes the rows again in each Map.
      `({ rows, byGroup: [...byGroup], index: [...index] })`,
    ],
    [
      `${n(100_000, 1000)} rows with a Date column`,
      `const rows = Array.from({ length: ${
        n(100_000, 1000)
      } }, (_, i) => ({ id: i, day: new Date(Date.UTC(2026, 0, 1 + i % 365)), v: i / 3 }))`,
      // JSON writes each Date as its ISO text.
      "rows",
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
}

/**
 * Measures each workload's save and restore.
 *
 * @throws {Error} When a workload's cell fails or its state does not restore completely.
 */
export async function snapshotFigures(sizes: Sizes): Promise<SnapshotRow[]> {
  const reps = sizes.quick ? 1 : 5;
  await using t = await temp("mkh-bench-");
  const out: SnapshotRow[] = [];
  for (const [workload, define, plain] of workloads(sizes.quick)) {
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
    let body: Uint8Array = new Uint8Array(0);
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

/** Prints the snapshot table: each workload's save and restore beside its JSON floor. */
export function printSnapshots(snapshots: SnapshotRow[]): void {
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
}
