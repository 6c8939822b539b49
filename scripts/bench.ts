/**
 * `deno task bench`: every figure beside its floor measured in the same run, because these
 * machines are noisy. Prints a table and writes JSON to `bench/results/`.
 *
 * `--quick` runs each workload small and once: a smoke test for CI that checks the harness
 * runs, not the timings.
 *
 * `--peers` also measures the same figures from IPython + dill and a Jupyter kernel, when
 * Debian's packages of them are installed, and prints ours against theirs.
 *
 * `--only=group,…` runs only the named groups of figures (`floors`, `kernel`, `mcp`,
 * `snapshots`, `save-stall`, `large-save`, `memory`, `startup`, `throughput`, `rasterize`,
 * `peers`); the floors that `kernel` and `mcp` compare against are measured for them, and
 * `peers` runs the groups it compares with.
 *
 * The harness and each group of figures live in `scripts/bench/`.
 *
 * @module
 */
import { setLogLevel } from "../src/log.ts";
import { clusterFigures } from "./bench/cluster.ts";
import { floorFigures } from "./bench/floors.ts";
import { printRows, type Row, sizes, temp, writeResults } from "./bench/harness.ts";
import { kernelFigures } from "./bench/kernel_start.ts";
import { mcpFigures } from "./bench/mcp.ts";
import { memoryFigures } from "./bench/memory.ts";
import { peerFigures, printPeers } from "./bench/peers.ts";
import { rasterizeFigures } from "./bench/rasterize.ts";
import { largeSaveFigures, saveStallFigures } from "./bench/save_stall.ts";
import { printSnapshots, snapshotFigures } from "./bench/snapshots.ts";
import { startupFigures } from "./bench/startup.ts";
import { throughputFigures } from "./bench/throughput.ts";

setLogLevel("warn");
const run = sizes(Deno.args.includes("--quick"));
const GROUPS = [
  "floors",
  "kernel",
  "mcp",
  "snapshots",
  "save-stall",
  "large-save",
  "memory",
  "startup",
  "throughput",
  "rasterize",
  "cluster",
  "peers",
] as const;
const only = onlyGroups(Deno.args);
/** The groups whose figures `peers` sets beside the peers' own. */
const PEERED = new Set(["kernel", "memory", "snapshots"]);
/** Whether group `g` runs: every group but `peers` by default (`peers` by its own flag). */
const wanted = (g: (typeof GROUPS)[number]): boolean =>
  only
    ? only.has(g) || (only.has("peers") && PEERED.has(g))
    : g !== "peers" || Deno.args.includes("--peers");
/** The bare sandboxes' scratch folder: they write nothing, but get a kernel's flags. */
await using floorScratch = await temp("mkh-bench-floor-");

const rows: Row[] = [];
const needFloors = wanted("floors") || wanted("kernel") || wanted("mcp");
const measured = needFloors ? await floorFigures(run, floorScratch.dir) : undefined;
if (measured && wanted("floors")) rows.push(...measured.rows);
if (measured && wanted("kernel")) rows.push(...await kernelFigures(run, measured.floors));
if (measured && wanted("mcp")) rows.push(...await mcpFigures(run, measured.floors));
const snapshots = wanted("snapshots") ? await snapshotFigures(run) : [];
if (wanted("save-stall")) rows.push(...await saveStallFigures(run));
if (wanted("large-save")) rows.push(...await largeSaveFigures(run));
if (wanted("memory")) rows.push(...await memoryFigures(run, floorScratch.dir));
if (wanted("startup")) rows.push(...await startupFigures(run));
if (wanted("throughput")) rows.push(...await throughputFigures(run));
if (wanted("rasterize")) rows.push(...await rasterizeFigures(run));
const cluster = wanted("cluster") ? await clusterFigures(run) : undefined;
if (cluster) rows.push(...cluster.rows);
// Last, so that the peers' processes weigh on none of our figures.
const peers = wanted("peers") ? await peerFigures(run, rows, snapshots) : undefined;

/**
 * The groups `--only=a,b` names, or `undefined` without it.
 *
 * @throws {RangeError} When it names a group that does not exist.
 */
function onlyGroups(args: string[]): Set<(typeof GROUPS)[number]> | undefined {
  const flag = args.findLast((a) => a.startsWith("--only="));
  if (flag === undefined) return undefined;
  const names = flag.slice("--only=".length).split(",").map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(GROUPS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new RangeError(
      `Cannot run the bench: --only must name groups among ${GROUPS.join(", ")}, got ` +
        `"${flag.slice("--only=".length)}"`,
    );
  }
  return new Set(names as (typeof GROUPS)[number][]);
}

printRows(rows);
if (snapshots.length > 0) printSnapshots(snapshots);
if (peers) printPeers(peers);
const file = await writeResults(run.quick, {
  rows,
  snapshots,
  ...(cluster && { cluster: cluster.ratios }),
  peers,
});
console.log(`\nwritten ${file}`);
