/**
 * Figure 10: the multi-host mode. Cells per second from concurrent MCP clients against one host
 * over SQLite, one host over PostgreSQL, and three hosts over PostgreSQL behind nginx (the
 * cluster of `deno task cluster`); and the latency a trivial cell gains through nginx, against
 * the same kernel's holder reached directly. Real host processes over HTTP, default save policy.
 *
 * @module
 */
import type { Client } from "@modelcontextprotocol/client";
import { routedClient } from "../../testing/chaos.ts";
import { startCluster } from "../../testing/cluster.ts";
import { startHostProcess } from "../../testing/host_process.ts";
import { type Row, type Sizes, stats, temp, time } from "./harness.ts";

/** Concurrent clients, one kernel each. */
const CLIENTS = 6;

/** The figures, and their ratios for the JSON. */
export interface ClusterFigures {
  rows: Row[];
  ratios: {
    /** One host: PostgreSQL's throughput over SQLite's. */
    postgresOverSqlite: number;
    /** Three hosts behind nginx over one host, both on PostgreSQL. */
    threeHostsOverOne: number;
    /** A trivial cell's median latency through nginx over direct. */
    nginxOverDirect: number;
  };
}

async function execute(client: Client, kernel: string, code: string): Promise<void> {
  const r = await client.callTool({ name: "execute", arguments: { kernel, code } });
  if (r.isError) throw new Error(`Cannot bench: a cell failed: ${JSON.stringify(r.content)}`);
}

/** Each client runs `x = x + 1` in its own kernel back to back; returns cells per second. */
async function throughput(url: string, seconds: number): Promise<number> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => routedClient(url)));
  try {
    const kernels = await Promise.all(clients.map(async (c) => {
      const made = await c.callTool({ name: "create_kernel", arguments: {} });
      const kernel = (made.structuredContent as { kernel: string }).kernel;
      await execute(c, kernel, "let x = 0");
      return kernel;
    }));
    let cells = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(clients.map(async (c, i) => {
      while (performance.now() < end) {
        await execute(c, kernels[i]!, "x = x + 1");
        cells++;
      }
    }));
    return cells / seconds;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

/** Measures the figures; starts and stops its own PostgreSQL, hosts and nginx. */
export async function clusterFigures(sizes: Sizes): Promise<ClusterFigures> {
  const seconds = sizes.quick ? 0.5 : 3;
  const workload = `${CLIENTS} MCP clients, each x = x + 1 back to back for ${seconds} s`;

  await using sqliteDir = await temp("mkh-bench-sqlite-");
  const sqliteHost = await startHostProcess([
    "--data-dir",
    sqliteDir.dir,
    "--spare-kernels",
    "0",
    "--max-kernels",
    "8",
  ]);
  let sqlite: number;
  try {
    sqlite = await throughput(sqliteHost.url, seconds);
  } finally {
    sqliteHost.process.kill("SIGKILL");
    await sqliteHost.process.status;
  }

  await using cluster = await startCluster({ hosts: 3, hostArgs: ["--max-kernels", "8"] });
  // One host over PostgreSQL: all kernels created and used through the first host.
  const onePg = await throughput(cluster.hosts[0]!.url, seconds);
  const threePg = await throughput(cluster.url, seconds);

  // A trivial cell through nginx against the same kernel's holder reached directly.
  const viaNginx = await routedClient(cluster.url);
  const made = await viaNginx.callTool({ name: "create_kernel", arguments: {} });
  const kernel = (made.structuredContent as { kernel: string }).kernel;
  for (let i = 0; i < 5; i++) await execute(viaNginx, kernel, "1");
  const holder = (await cluster.holders([kernel])).get(kernel);
  if (holder === undefined) throw new Error("Cannot bench: the kernel has no holder");
  const direct = await routedClient(cluster.hosts[holder]!.url);
  const cells = Math.min(sizes.cells, 500);
  const nginxSamples: number[] = [];
  const directSamples: number[] = [];
  try {
    // Interleaved, so that both see the same machine.
    for (let i = 0; i < cells; i++) {
      nginxSamples.push(await time(() => execute(viaNginx, kernel, "1")));
      directSamples.push(await time(() => execute(direct, kernel, "1")));
    }
  } finally {
    await viaNginx.close();
    await direct.close();
  }
  const throughNginx = stats(nginxSamples);
  const straight = stats(directSamples);

  const rows: Row[] = [
    {
      name: "throughput, 1 host over SQLite",
      workload: `${workload} (HTTP, one host process)`,
      reps: Math.round(sqlite * seconds),
      median: sqlite,
      unit: "cells/s",
    },
    {
      name: "throughput, 1 host over PostgreSQL",
      workload: `${workload} (HTTP, one host of the cluster)`,
      reps: Math.round(onePg * seconds),
      median: onePg,
      unit: "cells/s",
      floor: { name: "1 host over SQLite", median: sqlite },
    },
    {
      name: "throughput, 3 hosts over PostgreSQL, nginx",
      workload: `${workload} (through nginx to 3 hosts)`,
      reps: Math.round(threePg * seconds),
      median: threePg,
      unit: "cells/s",
      floor: { name: "1 host over PostgreSQL", median: onePg },
    },
    {
      name: "trivial cell through nginx",
      workload: `${cells} cells of \`1\`, MCP client through nginx to the kernel's holder`,
      reps: cells,
      ...throughNginx,
      unit: "ms",
      floor: { name: "the same, direct to the holder", median: straight.median },
    },
  ];
  return {
    rows,
    ratios: {
      postgresOverSqlite: onePg / sqlite,
      threeHostsOverOne: threePg / onePg,
      nginxOverDirect: throughNginx.median / straight.median,
    },
  };
}
