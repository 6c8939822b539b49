/**
 * The floors every figure is set against, measured in the same run: a bare Worker in-process,
 * and a bare sandbox (a process with a kernel's exact flags, a bare Worker and the same pipes).
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sandboxFlags } from "../../src/kernel/sandbox_process.ts";
import { type Row, type Sizes, stats, time } from "./harness.ts";

/** Samples of the floors, for the figures that compare against them. */
export interface Floors {
  workerStart: number[];
  workerTrip: number[];
  sandboxStart: number[];
  pipeTrip: number[];
}

/**
 * Starts a bare sandbox: `bare_sandbox.ts` under the kernel's flags, echoing stdin lines
 * through its Worker. Its first stdout line says the Worker is up.
 *
 * @param scratchDir A folder it may read and write, as a kernel's scratch folder (it writes
 * nothing).
 */
export function spawnBareSandbox(scratchDir: string): Deno.ChildProcess {
  const dir = fileURLToPath(new URL("./", import.meta.url));
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...sandboxFlags({ read: [scratchDir, dir], write: [scratchDir], memoryLimitMb: 512 }),
      join(dir, "bare_sandbox.ts"),
    ],
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/**
 * Measures the floors and their own rows.
 *
 * @param scratchDir The bare sandboxes' scratch folder.
 */
export async function floorFigures(
  sizes: Sizes,
  scratchDir: string,
): Promise<{ floors: Floors; rows: Row[] }> {
  const worker = await bareWorker(sizes);
  const sandbox = await bareSandbox(sizes, scratchDir);
  const floors = {
    workerStart: worker.start,
    workerTrip: worker.trip,
    sandboxStart: sandbox.start,
    pipeTrip: sandbox.trip,
  };
  const rows: Row[] = [
    {
      name: "bare Worker start",
      workload: "new Worker → first message",
      reps: sizes.starts,
      ...stats(worker.start),
      unit: "ms",
    },
    {
      name: "bare sandbox start",
      workload: "process with kernel flags + bare Worker → first line",
      reps: sizes.starts,
      ...stats(sandbox.start),
      unit: "ms",
    },
    {
      name: "postMessage round trip",
      workload: "echo Worker",
      reps: sizes.cells,
      ...stats(worker.trip),
      unit: "ms",
    },
    {
      name: "pipe + postMessage round trip",
      workload: "stdin line → bare sandbox's Worker → stdout line",
      reps: sizes.cells,
      ...stats(sandbox.trip),
      unit: "ms",
    },
  ];
  return { floors, rows };
}

async function bareWorker(sizes: Sizes) {
  const url = new URL("./bare_worker.ts", import.meta.url);
  const start: number[] = [];
  for (let i = 0; i < sizes.starts; i++) {
    let w!: Worker;
    start.push(
      await time(() =>
        new Promise((resolve) => {
          w = new Worker(url, { type: "module" });
          w.onmessage = resolve;
        })
      ),
    );
    w.terminate();
  }
  const w = new Worker(url, { type: "module" });
  await new Promise((r) => w.onmessage = r);
  const trip: number[] = [];
  for (let i = 0; i < sizes.cells; i++) {
    trip.push(
      await time(() =>
        new Promise((resolve) => {
          w.onmessage = resolve;
          w.postMessage("x");
        })
      ),
    );
  }
  w.terminate();
  return { start, trip };
}

async function bareSandbox(sizes: Sizes, scratchDir: string) {
  const start: number[] = [];
  const trip: number[] = [];
  for (let i = 0; i < sizes.starts; i++) {
    const t = performance.now();
    const child = spawnBareSandbox(scratchDir);
    const writer = child.stdin.getWriter();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read();
    start.push(performance.now() - t);
    if (i === 0) {
      for (let j = 0; j < sizes.cells; j++) {
        trip.push(
          await time(async () => {
            await writer.write(new TextEncoder().encode("x\n"));
            await reader.read();
          }),
        );
      }
    }
    await writer.close();
    await reader.cancel();
    await child.status;
  }
  return { start, trip };
}
