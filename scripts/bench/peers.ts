/**
 * `--peers`: the same figures from the peers this project stands in for, measured in the same
 * run: the seed's IPython + dill on the snapshot table's namespaces, and a Jupyter kernel's
 * start, idle memory and trivial cell. Each is set beside ours as a ratio (ours / theirs).
 *
 * The peers run under Debian's `/usr/bin/python3` with `python3-dill`, `ipython3`,
 * `python3-ipykernel` and `python3-jupyter-client`; without them the figures are skipped,
 * with the reason.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { type Row, show, type Sizes, stats, temp } from "./harness.ts";
import type { SnapshotRow } from "./snapshots.ts";

/** The interpreter the peers run under: Debian's, whose packages hold them. */
const PYTHON = "/usr/bin/python3";
const PACKAGES = "python3-dill ipython3 python3-ipykernel python3-jupyter-client";
const DIR = fileURLToPath(new URL("./peers/", import.meta.url));

/** One of our figures beside the same figure from a peer, from the same run. */
export interface PeerRow {
  name: string;
  unit: "ms" | "MB";
  ours: { name: string; median: number };
  theirs: { name: string; median: number; reps: number };
  /** Ours / theirs. */
  ratio: number;
}

/** The peers' figures, or why they were not measured. */
export type Peers =
  | { skipped: string }
  | { versions: Record<string, string>; rows: PeerRow[] };

/**
 * Measures the peers and pairs each figure with ours from this run.
 *
 * @param rows Our figures (the kernel start, the trivial cell and idle memory are used).
 * @param snapshots Our snapshot table, in the order of `snapshots.ts`'s workloads.
 * @throws {Error} When a peer fails once found, or one of our figures is missing.
 */
export async function peerFigures(
  sizes: Sizes,
  rows: Row[],
  snapshots: SnapshotRow[],
): Promise<Peers> {
  const missing = await missingPeers();
  if (missing) return { skipped: missing };
  await using t = await temp("mkh-bench-peers-");
  const quick = sizes.quick ? ["--quick"] : [];
  const dumped = await python(["dill_namespaces.py", "dump", t.dir, ...quick]);
  const loaded = await python(["dill_namespaces.py", "load", t.dir, ...quick]);
  const jupyter = await python([
    "jupyter_kernel.py",
    String(sizes.starts),
    String(sizes.cells),
  ]);
  const out: PeerRow[] = [];
  const pair = (
    name: string,
    unit: PeerRow["unit"],
    ours: PeerRow["ours"],
    theirs: PeerRow["theirs"],
  ) => out.push({ name, unit, ours, theirs, ratio: ours.median / theirs.median });

  const dumps = dumped.workloads as { workload: string; dumpMs: number; bytes: number }[];
  const loads = loaded.workloads as { workload: string; loadMs: number }[];
  if (dumps.length !== snapshots.length) {
    throw new Error(`Cannot pair snapshots: ${snapshots.length} ours, ${dumps.length} dill's`);
  }
  snapshots.forEach((s, i) => {
    // In range: both lists have the snapshot table's length, checked above.
    const dump = dumps[i]!, load = loads[i]!;
    pair(`save: ${s.workload}`, "ms", {
      name: `snapshot save, ${s.bytes.toLocaleString("en-US")} bytes`,
      median: s.saveMs,
    }, {
      name: `dill.dumps, ${dump.workload}, ${dump.bytes.toLocaleString("en-US")} bytes`,
      median: dump.dumpMs,
      reps: dumped.reps as number,
    });
    pair(`restore: ${s.workload}`, "ms", { name: "snapshot restore", median: s.restoreMs }, {
      name: `dill.loads into a fresh shell, ${load.workload}`,
      median: load.loadMs,
      reps: loaded.reps as number,
    });
  });

  const start = stats(jupyter.start as number[]);
  const cell = stats(jupyter.cell as number[]);
  const kernelStart = {
    name: "Jupyter kernel start + wait_for_ready + execute('1') reply",
    median: start.median,
    reps: sizes.starts,
  };
  pair(
    "kernel start to first result",
    "ms",
    ours(rows, "kernel start to first result"),
    kernelStart,
  );
  pair(
    "kernel start, a spare ready",
    "ms",
    ours(rows, "kernel start to first result, a spare ready"),
    kernelStart,
  );
  pair("trivial cell x = x + 1", "ms", ours(rows, "trivial cell, host API"), {
    name: "Jupyter execute('x = x + 1') to its execute_reply",
    median: cell.median,
    reps: sizes.cells,
  });
  const memory = ours(rows, "idle memory per kernel, ");
  pair(memory.name, "MB", memory, {
    name: "resident set of an idle Jupyter kernel after one cell",
    median: jupyter.idleMb as number,
    reps: 1,
  });
  const versions: Record<string, string> = {};
  for (
    const [key, from] of [
      ["python", dumped],
      ["dill", dumped],
      ["ipython", dumped],
      ["ipykernel", jupyter],
      ["jupyter_client", jupyter],
    ] as const
  ) {
    versions[key] = String(from[key]);
  }
  return { versions, rows: out };
}

/** Prints each figure beside the peer's, with their ratio; or why the peers were skipped. */
export function printPeers(peers: Peers): void {
  if ("skipped" in peers) {
    console.log(`\npeers skipped: ${peers.skipped}`);
    return;
  }
  console.log(
    `\npeers (${Object.entries(peers.versions).map(([k, v]) => `${k} ${v}`).join(", ")})\n${
      "figure".padEnd(56)
    } ${"ours".padStart(10)} ${"theirs".padStart(10)} ${"ratio".padStart(7)}  theirs is`,
  );
  for (const r of peers.rows) {
    console.log(
      `${r.name.padEnd(56)} ${show(r.ours.median, r.unit).padStart(10)} ${
        show(r.theirs.median, r.unit).padStart(10)
      } ${`${r.ratio.toFixed(r.ratio < 0.1 ? 3 : 2)}×`.padStart(7)}  ${r.theirs.name}`,
    );
  }
}

/** Our figure whose row name starts with `prefix` (the first such row). */
function ours(rows: Row[], prefix: string): PeerRow["ours"] {
  const row = rows.find((r) => r.name === prefix) ?? rows.find((r) => r.name.startsWith(prefix));
  if (!row) throw new Error(`Cannot compare with the peers: no figure named "${prefix}…"`);
  return { name: row.name, median: row.median };
}

/** Why the peers cannot run here, or `null` when they can. */
async function missingPeers(): Promise<string | null> {
  const hint = `install Debian's ${PACKAGES} (apt-get install -y ${PACKAGES})`;
  try {
    const probe = await new Deno.Command(PYTHON, {
      args: ["-c", "import dill, IPython, ipykernel, jupyter_client"],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (probe.success) return null;
    const lines = new TextDecoder().decode(probe.stderr).trim().split("\n");
    return `${PYTHON}: ${lines.at(-1)}; ${hint}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `no ${PYTHON}; ${hint}`;
    throw error;
  }
}

/**
 * Runs one of the peers' scripts under Debian's Python and returns its JSON.
 *
 * @throws {Error} When the script fails, with its standard error.
 */
async function python(args: string[]): Promise<Record<string, unknown>> {
  const [script, ...rest] = args;
  const result = await new Deno.Command(PYTHON, {
    args: [`${DIR}${script}`, ...rest],
    // The kernel's debugger otherwise warns about frozen modules on every start.
    env: { PYDEVD_DISABLE_FILE_VALIDATION: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    throw new Error(
      `Peer ${args.join(" ")} failed: ${new TextDecoder().decode(result.stderr).trim()}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(result.stdout));
}
