import assert from "node:assert/strict";
import { BackgroundCells, FINISHED_KEPT } from "../src/background_cells.ts";
import type { ExecuteResult } from "../src/kernel/kernel_handle.ts";

const ok = (stdout: string): ExecuteResult => ({
  status: "ok",
  executionCount: 1,
  stdout,
  stderr: "",
  durationMs: 1,
});

Deno.test("a background cell shows its output so far, then its result; only to its kernel", async () => {
  const cells = new BackgroundCells(() => 1000);
  const finish = Promise.withResolvers<ExecuteResult>();
  const started = cells.start("k1", (onOutput) => {
    onOutput("one\n", "stdout");
    onOutput("warn\n", "stderr");
    return finish.promise;
  });
  assert.equal(started.startedAt, 1000);
  const running = cells.get("k1", started.cell)!;
  assert.equal(running.result, undefined);
  assert.equal(running.stdout, "one\n");
  assert.equal(running.stderr, "warn\n");
  assert.equal(cells.get("k2", started.cell), undefined, "another kernel cannot see it");
  finish.resolve(ok("one\ntwo\n"));
  await finish.promise;
  await Promise.resolve();
  const done = cells.get("k1", started.cell)!;
  assert.equal(done.result?.status, "ok");
  assert.equal(done.stdout, "one\ntwo\n");
});

Deno.test("a cell whose run rejects is reported lost with why; old finished cells are forgotten", async () => {
  const cells = new BackgroundCells();
  const lost = cells.start("k", () => Promise.reject(new Error("Cannot use a closed kernel")));
  const ids = [];
  for (let i = 0; i < FINISHED_KEPT; i++) ids.push(cells.start("k", () => Promise.resolve(ok(""))));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(cells.get("k", lost.cell), undefined, "the oldest finished cell was forgotten");
  assert.ok(cells.get("k", ids[0]!.cell)?.result);
  const other = cells.start("j", () => Promise.reject(new Error("gone")));
  await new Promise((r) => setTimeout(r, 0));
  assert.match(cells.get("j", other.cell)?.lost ?? "", /ended without a result: gone/);
  cells.forget("j");
  assert.equal(cells.get("j", other.cell), undefined);
});
