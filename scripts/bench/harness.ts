/**
 * What every figure group of `deno task bench` shares: the workload sizes, the row of the
 * table, timing and statistics, temporary folders, the one way a host is opened, and the
 * output (table and JSON).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { parseConfig } from "../../src/config.ts";
import { Host, type HostOptions } from "../../src/host.ts";
import { openRegistry } from "../../src/registry/open_registry.ts";

/** How large each workload is. */
export interface Sizes {
  /** `--quick`: every workload small and once, to check the harness runs, not the timings. */
  quick: boolean;
  /** Process or Worker starts per start figure. */
  starts: number;
  /** Round trips or cells per latency figure. */
  cells: number;
}

/** The sizes of a full run, or of a `--quick` one. */
export function sizes(quick: boolean): Sizes {
  return { quick, starts: quick ? 2 : 15, cells: quick ? 30 : 2000 };
}

/** One row of the table: the project's figure, and its floor from this run. */
export interface Row {
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

/** Median, minimum and 99th percentile of some samples. */
export function stats(samples: number[]): { median: number; min: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const [min] = s;
  if (min === undefined) throw new RangeError("Cannot summarise samples: there are none");
  // In range: s is not empty and 0 <= q < 1.
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), min, p99: at(0.99) };
}

/** Milliseconds `fn` takes to settle. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** A new temporary folder, removed with its contents when disposed. */
export async function temp(prefix: string): Promise<{ dir: string } & AsyncDisposable> {
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

/**
 * The one place the bench constructs a host: the defaults above, overridden by `options`, on
 * the registry `dataDir` is configured for. Shut it down with `host.shutdown()`.
 */
export async function openBenchHost(
  options: Partial<Omit<HostOptions, "registry">> & { dataDir: string },
): Promise<Host> {
  return new Host({
    ...HOST_DEFAULTS,
    ...options,
    registry: await openRegistry({ dataDir: options.dataDir }),
  });
}

/** A duration, size or rate as the tables show it, e.g. `53 µs`, `1.58 ms`, `55.6 MB`. */
export function show(v: number, unit: Row["unit"]): string {
  return unit === "ms"
    ? (v < 1 ? `${(v * 1000).toFixed(0)} µs` : `${v.toFixed(v < 10 ? 2 : 1)} ms`)
    : `${v.toFixed(unit === "MB" ? 1 : 0)} ${unit}`;
}

/** Prints the figures, each with its floor, their ratio and its goal. */
export function printRows(rows: Row[]): void {
  console.log(
    `${"figure".padEnd(44)} ${"median".padStart(10)} ${"p99".padStart(10)} ${
      "floor".padStart(10)
    } ${"ratio".padStart(7)}  goal`,
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
}

/**
 * Writes a run's results to `bench/results/bench-<time>.json` beside the sources.
 *
 * @param results The figures; `quick`, Deno's version and the core count are added.
 * @returns The file's path.
 */
export async function writeResults(
  quick: boolean,
  results: { rows: Row[]; snapshots: unknown[]; cluster?: unknown; peers?: unknown },
): Promise<string> {
  const out = new URL("../../bench/results/", import.meta.url);
  await Deno.mkdir(out, { recursive: true });
  const file = new URL(`bench-${new Date().toISOString().replaceAll(":", "-")}.json`, out);
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      { quick, deno: Deno.version.deno, cores: navigator.hardwareConcurrency, ...results },
      null,
      2,
    ),
  );
  return fileURLToPath(file);
}
