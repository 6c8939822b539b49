/**
 * A periodic save gives way to a call that arrives while it runs (persistence issue, item 6):
 * the yieldable snapshot stops at its next checkpoint and the call is served; a save that must
 * finish (eviction, shutdown) does not give way.
 */
import assert from "node:assert/strict";
import { SAVE_YIELDED } from "../../src/kernel/worker/save_yield.ts";
import { startKernel } from "./_kernel.ts";

/** A namespace whose save takes a while: 300,000 records, about 22 MB of snapshot. */
const ROWS = "const rows = Array.from({ length: 300000 }, (_, i) => " +
  '({ id: i, name: "row" + i, v: i / 7, tags: ["a", "b"] })); rows.length';

Deno.test("a yieldable snapshot gives way to a call queued behind it; the call is served and nothing changes", async () => {
  await using t = await startKernel({ memoryLimitMb: 512 });
  assert.equal((await t.kernel.execute(ROWS)).status, "ok");
  const saving = t.kernel.snapshot({ yieldable: true });
  // Let the snapshot start, then queue a call behind it.
  await new Promise((r) => setTimeout(r, 20));
  const call = t.kernel.execute("rows.length + 1");
  await assert.rejects(saving, { name: SAVE_YIELDED });
  const served = await call;
  assert.equal(served.status, "ok");
  assert.equal(served.data?.["text/plain"], "300001");

  // Queued behind a running cell, a yieldable snapshot gives way before it starts.
  const busy = t.kernel.execute("await new Promise((r) => setTimeout(r, 200)); 'slept'");
  const queued = t.kernel.snapshot({ yieldable: true });
  const next = t.kernel.execute("rows[1].id");
  await assert.rejects(queued, { name: SAVE_YIELDED });
  assert.equal((await busy).data?.["text/plain"], '"slept"');
  assert.equal((await next).data?.["text/plain"], "1");
});

Deno.test("a snapshot that must finish does not give way, and a yieldable one alone completes", async () => {
  await using t = await startKernel({ memoryLimitMb: 512 });
  await t.kernel.execute(ROWS);
  const saving = t.kernel.snapshot();
  await new Promise((r) => setTimeout(r, 20));
  const call = t.kernel.execute("1");
  const taken = await saving;
  assert.ok(taken.body.length > 10_000_000, `${taken.body.length} characters`);
  assert.equal((await call).status, "ok");

  const alone = await t.kernel.snapshot({ yieldable: true });
  assert.equal(alone.body.length, taken.body.length);
});
