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
 * The harness and each group of figures live in `scripts/bench/`.
 *
 * @module
 */
import { setLogLevel } from "../src/log.ts";
import { clusterFigures } from "./bench/cluster.ts";
import { floorFigures } from "./bench/floors.ts";
import { printRows, sizes, temp, writeResults } from "./bench/harness.ts";
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
/** The bare sandboxes' scratch folder: they write nothing, but get a kernel's flags. */
await using floorScratch = await temp("mkh-bench-floor-");

const { floors, rows } = await floorFigures(run, floorScratch.dir);
rows.push(...await kernelFigures(run, floors));
rows.push(...await mcpFigures(run, floors));
const snapshots = await snapshotFigures(run);
rows.push(...await saveStallFigures(run));
rows.push(...await largeSaveFigures(run));
rows.push(...await memoryFigures(run, floorScratch.dir));
rows.push(...await startupFigures(run));
rows.push(...await throughputFigures(run));
rows.push(...await rasterizeFigures(run));
const cluster = await clusterFigures(run);
rows.push(...cluster.rows);
// Last, so that the peers' processes weigh on none of our figures.
const peers = Deno.args.includes("--peers") ? await peerFigures(run, rows, snapshots) : undefined;

printRows(rows);
printSnapshots(snapshots);
if (peers) printPeers(peers);
const file = await writeResults(run.quick, {
  rows,
  snapshots,
  cluster: cluster.ratios,
  peers,
});
console.log(`\nwritten ${file}`);
