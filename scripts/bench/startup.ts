/**
 * Figure 6: how long a host process with many stored sessions takes to serve its first
 * request, against the same with an empty registry.
 *
 * @module
 */
import { openRegistry } from "../../src/registry/open_registry.ts";
import { initializeRequest, startHostProcess } from "../../testing/host_process.ts";
import { type Row, type Sizes, stats, temp } from "./harness.ts";

/** Measures spawn → listening → `initialize` answered, on both data folders in turn. */
export async function startupFigures(sizes: Sizes): Promise<Row[]> {
  const sessions = sizes.quick ? 100 : 10_000;
  await using empty = await temp("mkh-bench-");
  await using full = await temp("mkh-bench-");
  const registry = await openRegistry({ dataDir: full.dir });
  const now = Date.now();
  for (let i = 0; i < sessions; i++) {
    const id = `session-${i}`;
    await registry.createSession({ id, now: now - i, metadata: { initialize: {} } });
    await registry.createKernel({ id, ownerSession: id, now: now - i });
  }
  await registry.close();
  const floorRuns: number[] = [];
  const runs: number[] = [];
  for (let i = 0; i < (sizes.quick ? 1 : 3); i++) {
    floorRuns.push(await firstRequest(empty.dir));
    runs.push(await firstRequest(full.dir));
  }
  return [{
    name: `first request served, ${sessions.toLocaleString("en-US")} stored sessions`,
    workload: "spawn main.ts → listening → initialize answered",
    reps: runs.length,
    ...stats(runs),
    unit: "ms",
    floor: { name: "the same with an empty registry", median: stats(floorRuns).median },
    goal: "< 500 ms",
  }];
}

/** Milliseconds from spawning a host on `dataDir` to its answer to `initialize`. */
async function firstRequest(dataDir: string): Promise<number> {
  const t = performance.now();
  const host = await startHostProcess(["--data-dir", dataDir]);
  const response = await fetch(host.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify(initializeRequest(1, "bench")),
  });
  await response.body?.cancel();
  const elapsed = performance.now() - t;
  host.process.kill("SIGKILL");
  await host.process.status;
  return elapsed;
}
