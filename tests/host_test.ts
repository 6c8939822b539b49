import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { CapacityError } from "../src/host.ts";
import { allRestored, CHECK_EVERYTHING, DEFINE_EVERYTHING } from "./_everything.ts";
import { openHost } from "./_host.ts";
import { waitFor } from "./_processes.ts";

Deno.test("a kernel evicted by the cap is saved first and comes back with its state", async () => {
  await using t = await openHost({ maxKernels: 1 });
  const a = await t.host.createKernel();
  await t.host.execute(a, "class K { m() { return 40 } }\nconst k = new K(); let n = 2");
  const b = await t.host.createKernel();
  assert.equal(t.host.isLive(a), false, "A should have been evicted for B");
  assert.equal(t.host.isLive(b), true);
  assert.equal((await t.host.registry.getKernel(a))?.state, "stored");
  assert.equal(
    (await t.host.registry.listSnapshots(a))[0]?.format,
    1,
    "the kernel reports its format",
  );

  const back = await t.host.execute(a, "k.m() + n");
  assert.equal(back.data?.["text/plain"], "42");
  assert.equal(back.restoredFrom?.version, 1);
  assert.equal(back.lost, undefined);
  assert.equal(t.host.isLive(b), false, "B made room for A in turn");
});

Deno.test("every kind of value survives eviction by the cap and idle culling", async () => {
  await using t = await openHost({ maxKernels: 1, idleTimeout: 1 });
  const a = await t.host.createKernel();
  const defined = await t.host.execute(a, DEFINE_EVERYTHING);
  assert.equal(defined.status, "ok", JSON.stringify(defined.error));
  await t.host.createKernel();
  assert.equal(t.host.isLive(a), false, "evicted");
  const afterEviction = await t.host.execute(a, CHECK_EVERYTHING);
  allRestored({
    status: afterEviction.status,
    result: afterEviction.data?.["text/plain"],
    error: afterEviction.error,
  });
  assert.ok(afterEviction.restoredFrom);
  assert.ok(await waitFor(() => !t.host.isLive(a), 5000), "culled");
  const afterCull = await t.host.execute(a, CHECK_EVERYTHING);
  allRestored({
    status: afterCull.status,
    result: afterCull.data?.["text/plain"],
    error: afterCull.error,
  });
  assert.equal(afterCull.restoredFrom?.version, 2);
});

Deno.test("a busy kernel is never evicted; a new one waits, then gets an at-capacity error", async () => {
  await using t = await openHost({ maxKernels: 1, capacityWait: 1 });
  const a = await t.host.createKernel();
  const slow = t.host.execute(a, "await new Promise((r) => setTimeout(r, 2500)); 'done'");
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await assert.rejects(t.host.createKernel(), (error: Error) => {
    assert.ok(error instanceof CapacityError);
    assert.match(error.message, /at capacity: the one live kernel stayed busy for 1 s/);
    return true;
  });
  assert.ok(Date.now() - started >= 900, "it should have waited for a slot");
  assert.equal((await slow).data?.["text/plain"], '"done"');
  const b = await t.host.createKernel();
  assert.equal(t.host.isLive(b), true);
});

Deno.test("an idle kernel is culled (saved and stopped) and resumes with its state", async () => {
  await using t = await openHost({ idleTimeout: 1 });
  const a = await t.host.createKernel();
  await t.host.execute(a, "const kept = new Map([['d', new Date(7)]])");
  assert.ok(await waitFor(() => !t.host.isLive(a), 5000), "the idle kernel was not culled");
  assert.equal((await t.host.registry.listSnapshots(a)).length, 1);
  const back = await t.host.execute(a, "kept.get('d').getTime()");
  assert.equal(back.data?.["text/plain"], "7");
  assert.equal(back.restoredFrom?.version, 1);
});

Deno.test("a kernel is saved after N requests, and after the interval once it changed", async () => {
  await using t = await openHost({ saveEvery: 3 });
  const a = await t.host.createKernel();
  await t.host.execute(a, "let i = 0");
  await t.host.execute(a, "i++");
  assert.equal((await t.host.registry.listSnapshots(a)).length, 0);
  await t.host.execute(a, "i++");
  assert.ok(await waitFor(async () => (await t.host.registry.listSnapshots(a)).length === 1, 3000));
  assert.equal((await t.host.registry.listSnapshots(a))[0]?.executionCount, 3);

  await using u = await openHost({ saveInterval: 1 });
  const b = await u.host.createKernel();
  await u.host.execute(b, "let j = 0");
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await u.host.registry.listSnapshots(b)).length, 0, "saved before the interval");
  assert.ok(await waitFor(async () => (await u.host.registry.listSnapshots(b)).length === 1, 3000));
});

Deno.test("a corrupted latest snapshot is quarantined, the previous one used, and the reply says so", async () => {
  await using t = await openHost();
  const a = await t.host.createKernel();
  await t.host.execute(a, "let x = 'first'");
  assert.equal(await t.host.save(a), true);
  await t.host.execute(a, "x = 'second'");
  assert.equal(await t.host.save(a), true);
  assert.deepEqual((await t.host.registry.listSnapshots(a)).map((s) => s.version), [2, 1]);
  const db = new DatabaseSync(join(t.dataDir, "registry.db"));
  db.prepare(
    "UPDATE snapshots SET body = '{\"format\":1,broken' WHERE kernel_id = ? AND version = 2",
  ).run(a);
  db.close();
  assert.equal(await t.host.stopKernel(a), true);

  const back = await t.host.execute(a, "x");
  assert.equal(back.data?.["text/plain"], '"first"');
  assert.equal(back.restoredFrom?.version, 1);
  assert.match(back.lost ?? "", /snapshot version 2 .* failed to load and was quarantined/);
  const v2 = (await t.host.registry.listSnapshots(a)).find((s) => s.version === 2)!;
  assert.ok(v2.quarantined, "version 2 should be flagged");
  assert.equal(
    new TextDecoder().decode((await t.host.registry.loadSnapshot(a, 2))?.body),
    '{"format":1,broken',
    "and kept as it was",
  );
});

Deno.test("a cell past its timeout is interrupted: nothing is restored and nothing lost", async () => {
  await using t = await openHost();
  const a = await t.host.createKernel();
  await t.host.execute(a, "let x = 1");
  await t.host.save(a);
  await t.host.execute(a, "x = 2");
  const stopped = await t.host.execute(a, "while (true) {}", { timeoutMs: 300 });
  assert.equal(stopped.status, "timeout");
  assert.equal(stopped.restoredFrom, undefined);
  assert.equal(stopped.lost, undefined);
  assert.equal((await t.host.execute(a, "x")).data?.["text/plain"], "2");
});

Deno.test("a kernel that dies is restarted from its freshest snapshot; the result says what was lost", async () => {
  await using t = await openHost();
  const a = await t.host.createKernel();
  await t.host.execute(a, "let x = 1");
  await t.host.save(a);
  await t.host.execute(a, "x = 2");
  // Unchecked code (eval) after an await ignores the interrupt: the kernel is killed at the grace.
  const dead = await t.host.execute(a, 'await null; eval("while (true) {}")', { timeoutMs: 300 });
  assert.equal(dead.status, "timeout");
  assert.equal(dead.restoredFrom?.version, 1);
  assert.match(dead.lost ?? "", /changes made after the last save/);
  assert.equal((await t.host.execute(a, "x")).data?.["text/plain"], "1");
});

Deno.test("an ephemeral kernel also comes back from its last in-memory save after it dies", async () => {
  await using t = await openHost();
  const a = await t.host.createKernel({ persistent: false });
  await t.host.execute(a, "let y = 'kept'");
  await t.host.save(a);
  assert.equal(await t.host.registry.getKernel(a), undefined, "never written to the registry");
  const dead = await t.host.execute(a, 'await null; eval("while (true) {}")', { timeoutMs: 300 });
  assert.equal(dead.restoredFrom?.version, 1);
  assert.equal((await t.host.execute(a, "y")).data?.["text/plain"], '"kept"');
});

Deno.test("a host restarted on the same data folder rehydrates the kernels that were live", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-host-" });
  let a: string;
  {
    await using t = await openHost({ dataDir });
    a = await t.host.createKernel();
    await t.host.execute(a, "const survivor = [1, 2, 3]");
  }
  {
    await using t = await openHost({ dataDir });
    assert.equal(t.host.isLive(a), false);
    await t.host.rehydrate();
    assert.equal(t.host.isLive(a), true, "rehydrated at start");
    assert.equal((await t.host.execute(a, "survivor.length")).data?.["text/plain"], "3");
  }
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("a request that reaches a kernel while it is saved for eviction is not lost", async () => {
  await using t = await openHost({ maxKernels: 1 });
  const a = await t.host.createKernel();
  // A large value makes the eviction's save take long enough for a request to arrive during it.
  await t.host.execute(
    a,
    "const ballast = Array.from({ length: 3_000_000 }, (_, i) => i); let c = 0",
  );
  const b = t.host.createKernel();
  await new Promise((r) => setTimeout(r, 30));
  const during = await t.host.execute(a, "++c");
  assert.equal(during.data?.["text/plain"], "1");
  await b;
  const after = await t.host.execute(a, "c");
  assert.equal(
    after.data?.["text/plain"],
    "1",
    "the increment answered during the eviction survived it",
  );
});

Deno.test("shorthand methods and getters come back; a value that cannot be restored costs only itself", async () => {
  await using t = await openHost();
  const a = await t.host.createKernel();
  const defined = await t.host.execute(
    a,
    "const greeter = { name: 'x', greet(n) { return 'hi ' + n }, get loud() { return 'X' } };\n" +
      "const hello = greeter.greet; const other = [1, 2, 3]; let fine = 'kept'",
  );
  assert.equal(defined.status, "ok", JSON.stringify(defined.error));
  assert.equal(await t.host.save(a), true);
  assert.equal(await t.host.stopKernel(a), true);
  const back = await t.host.execute(a, "[greeter.greet('a'), hello('b'), other.length, fine]");
  assert.equal(back.status, "ok", JSON.stringify(back.error));
  assert.equal(back.data?.["text/plain"], '[ "hi a", "hi b", 3, "kept" ]');
  assert.equal(back.lost, undefined);
});

Deno.test("what a save did not look into is said apart from lost, once per restore", async () => {
  await using t = await openHost();
  const a = await t.host.createKernel();
  // 1,200 instances: past the 1,000 a save looks into for private fields.
  await t.host.execute(
    a,
    "class P { constructor(i) { this.i = i } }\n" +
      "const ps = Array.from({ length: 1200 }, (_, i) => new P(i)); const pending = Promise.resolve(1)",
  );
  for (let round = 0; round < 2; round++) {
    assert.equal(await t.host.save(a), true);
    assert.equal(await t.host.stopKernel(a), true);
    const back = await t.host.execute(a, "ps[1199] instanceof P && ps[1199].i");
    assert.equal(back.data?.["text/plain"], "1199");
    assert.match(back.lost ?? "", /not fully restored: pending \(a Promise cannot be saved\)/);
    assert.doesNotMatch(back.lost ?? "", /ps\[1000\]|without checking/, `round ${round}`);
    assert.equal(
      back.restoredFrom?.unchecked,
      "ps[1000] (it and 199 more functions and instances inside variables were saved without " +
        "checking for captured variables or private fields)",
      `said once, round ${round}`,
    );
  }
});

Deno.test("what a save left out is named in lost when the kernel comes back", async () => {
  await using t = await openHost();
  const a = await t.host.createKernel();
  await t.host.execute(a, "const pending = Promise.resolve(1); let n = 1");
  assert.equal(await t.host.save(a), true);
  assert.equal(await t.host.stopKernel(a), true);
  const back = await t.host.execute(a, "n");
  assert.equal(back.data?.["text/plain"], "1");
  assert.match(back.lost ?? "", /not fully restored: pending \(a Promise cannot be saved\)/);
});
