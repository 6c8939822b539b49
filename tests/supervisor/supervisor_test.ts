/**
 * The supervisor with fake kernels, a memory registry and an injected clock: admission,
 * eviction, culling, saving and restart races, played step by step. The same behaviour with
 * real sandboxes is in tests/host_test.ts.
 */
import assert from "node:assert/strict";
import type { ExecuteResult } from "../../src/kernel/kernel_handle.ts";
import { openMemoryRegistry } from "../../src/registry/memory/memory_registry.ts";
import type { Registry } from "../../src/registry/registry.ts";
import { CapacityError, KernelNotFoundError } from "../../src/supervisor/errors.ts";
import { MAX_YIELDS, Supervisor, type SupervisorOptions } from "../../src/supervisor/supervisor.ts";
import { fakeFactory, type FakeKernel } from "./_fake_kernel.ts";

/** What two supervisors of one host's lives share: the registry and the policy (no timer). */
function hostOptions(registry: Registry): Omit<SupervisorOptions, "startKernel"> {
  return {
    registry,
    maxKernels: 4,
    idleTimeoutMs: 60_000,
    capacityWaitMs: 0,
    snapshotVersions: 3,
    saveIntervalMs: 60_000,
    saveEvery: 1_000,
    tickMs: 0,
  };
}

interface Rig extends AsyncDisposable {
  supervisor: Supervisor;
  registry: Registry;
  started: FakeKernel[];
  clock: { now: number };
  /** The newest fake kernel started for `id`. */
  kernel(id: string): FakeKernel;
  logs: string[];
}

function rig(options: Partial<SupervisorOptions> = {}): Rig {
  const registry = openMemoryRegistry();
  const factory = fakeFactory();
  const clock = { now: 1_000 };
  const logs: string[] = [];
  const supervisor = new Supervisor({
    ...hostOptions(registry),
    startKernel: factory.start,
    now: () => clock.now,
    log: (m) => logs.push(m),
    ...options,
  });
  return {
    supervisor,
    registry,
    started: factory.started,
    clock,
    logs,
    kernel: (id) => factory.started.findLast((k) => k.id === id)!,
    async [Symbol.asyncDispose]() {
      await supervisor.shutdown(0);
      await registry.close();
    },
  };
}

Deno.test("at the cap, the least recently used idle kernel is saved, stopped, and comes back", async () => {
  await using r = rig({ maxKernels: 2 });
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "x = 41");
  r.clock.now += 10;
  await r.supervisor.create("b", { persistent: true });
  r.clock.now += 10;
  await r.supervisor.create("c", { persistent: true });
  assert.equal(r.supervisor.isLive("a"), false, "a was the least recently used");
  assert.equal(r.supervisor.isLive("b"), true);
  assert.equal((await r.registry.getKernel("a"))?.state, "stored");
  assert.equal((await r.registry.listSnapshots("a")).length, 1, "saved before it stopped");

  const back = await r.supervisor.execute("a", "x += 1");
  assert.equal(back.data?.["text/plain"], "42");
  assert.equal(back.restoredFrom?.version, 1);
  assert.equal(back.lost, undefined);
  assert.equal(r.supervisor.isLive("b"), false, "b made room for a in turn");
});

Deno.test("a busy kernel is never evicted: the newcomer gets an at-capacity error", async () => {
  await using r = rig({ maxKernels: 1 });
  await r.supervisor.create("a", { persistent: true });
  const release = Promise.withResolvers<void>();
  const busy = r.supervisor.run("a", () => release.promise);
  await assert.rejects(r.supervisor.create("b", { persistent: true }), (error: Error) => {
    assert.ok(error instanceof CapacityError);
    assert.match(error.message, /at capacity: the one live kernel stayed busy for 0 s/);
    return true;
  });
  assert.equal(r.supervisor.isLive("a"), true);
  release.resolve();
  await busy;
  await r.supervisor.create("c", { persistent: true });
  assert.equal(r.supervisor.isLive("a"), false, "once idle it could be evicted");
});

Deno.test("a newcomer waiting for a slot is admitted when a busy kernel becomes idle", async () => {
  await using r = rig({ maxKernels: 1, capacityWaitMs: 60_000 });
  await r.supervisor.create("a", { persistent: true });
  const release = Promise.withResolvers<void>();
  const busy = r.supervisor.run("a", () => release.promise);
  let admitted = false;
  const waiting = r.supervisor.create("b", { persistent: true }).then(() => admitted = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(admitted, false, "b waits while a is busy");
  release.resolve();
  await busy;
  await waiting;
  assert.equal(r.supervisor.isLive("b"), true);
  assert.equal(r.supervisor.isLive("a"), false);
});

Deno.test("kernels waiting for a slot do not count as live: a storm of newcomers is admitted in turn", async () => {
  // Regression: waiters once counted against the cap, so they waited for each other until the
  // capacity error (found by the load script with 40 new sessions against a cap of 4).
  await using r = rig({ maxKernels: 1, capacityWaitMs: 1_000, now: Date.now });
  await r.supervisor.create("first", { persistent: true });
  const storm = ["s1", "s2", "s3", "s4", "s5"];
  const settled = await Promise.allSettled(
    storm.map((id) => r.supervisor.create(id, { persistent: true })),
  );
  assert.ok(settled.every((s) => s.status === "fulfilled"), JSON.stringify(settled));
  assert.equal(storm.filter((id) => r.supervisor.isLive(id)).length, 1, "the cap held");
});

Deno.test("a request that reaches a kernel while it is saved for eviction is not lost", async () => {
  // Regression: the eviction stopped the kernel after a save that missed the request's effect,
  // although its client had been answered (found by the load script).
  await using r = rig({ maxKernels: 1, capacityWaitMs: 60_000 });
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "c = 0");
  const gate = Promise.withResolvers<void>();
  const a = r.kernel("a");
  a.snapshotGate = gate.promise;
  let during: Promise<unknown> | undefined;
  a.onSnapshot = () => {
    a.onSnapshot = undefined;
    during = r.supervisor.execute("a", "c += 1");
  };
  const b = r.supervisor.create("b", { persistent: true });
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.ok(during, "the eviction's save started");
  const answered = await during;
  assert.equal((answered as ExecuteResult).data?.["text/plain"], "1");
  a.snapshotGate = undefined;
  gate.resolve();
  await b;
  const after = await r.supervisor.execute("a", "c");
  assert.equal(
    after.data?.["text/plain"],
    "1",
    "the increment answered during the eviction survived it",
  );
});

Deno.test("an idle kernel is culled at the idle timeout, by the clock, and saved first", async () => {
  await using r = rig({ idleTimeoutMs: 1_000 });
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "x = 7");
  r.clock.now += 999;
  await r.supervisor.tick();
  assert.equal(r.supervisor.isLive("a"), true, "not idle long enough");
  r.clock.now += 1;
  await r.supervisor.tick();
  assert.equal(r.supervisor.isLive("a"), false, "culled");
  assert.equal((await r.registry.listSnapshots("a")).length, 1);
  assert.equal((await r.supervisor.execute("a", "x")).data?.["text/plain"], "7");
});

Deno.test("a cull whose save outlasts a tick is not started again by the next tick", async () => {
  await using r = rig({ idleTimeoutMs: 1_000 });
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "x = 7");
  const { promise, resolve } = Promise.withResolvers<void>();
  r.kernel("a").snapshotGate = promise;
  r.clock.now += 1_000;
  const first = r.supervisor.tick(); // culls "a"; its save waits on the gate
  r.clock.now += 1_000;
  const second = r.supervisor.tick(); // "a" is still live and idle: picked again
  await new Promise((r) => setTimeout(r, 10));
  resolve();
  await Promise.all([first, second]);
  assert.equal(r.supervisor.isLive("a"), false);
  assert.deepEqual(r.logs.filter((l) => l.includes("applying the policy failed")), []);
  assert.equal((await r.supervisor.execute("a", "x")).data?.["text/plain"], "7");
});

Deno.test("a kernel is saved after N requests, and once the interval passed since it changed", async () => {
  await using r = rig({ saveEvery: 3, saveIntervalMs: 5_000 });
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "i = 0");
  await r.supervisor.execute("a", "i += 1");
  assert.equal((await r.registry.listSnapshots("a")).length, 0);
  await r.supervisor.execute("a", "i += 1");
  await r.supervisor.save("a"); // waits for the save the third request started
  assert.equal((await r.registry.listSnapshots("a"))[0]?.executionCount, 3);

  await r.supervisor.execute("a", "i += 1");
  r.clock.now += 4_999;
  await r.supervisor.tick();
  assert.equal((await r.registry.listSnapshots("a")).length, 1, "saved before the interval");
  r.clock.now += 1;
  await r.supervisor.tick();
  assert.equal((await r.registry.listSnapshots("a")).length, 2);
});

Deno.test("a periodic save gives way to requests, not a failure, at most MAX_YIELDS times in a row", async () => {
  await using r = rig();
  await r.supervisor.create("a", { persistent: true });
  const k = r.kernel("a");
  k.busy = true;
  for (let i = 0; i < MAX_YIELDS; i++) {
    const result = await r.supervisor.execute("a", `i = ${i}`);
    assert.equal(result.saveFailed, undefined, "giving way is not a failed save");
    assert.equal(await r.supervisor.save("a", { periodic: true }), false);
  }
  assert.equal((await r.registry.listSnapshots("a")).length, 0);
  // Each periodic save gave way; the next one must finish.
  const after = await r.supervisor.execute("a", "i = 9");
  assert.equal(after.saveFailed, undefined);
  assert.equal(await r.supervisor.save("a", { periodic: true }), true);
  const saved = await r.registry.listSnapshots("a");
  assert.equal(saved.length, 1);
  assert.equal(saved[0]?.executionCount, MAX_YIELDS + 1);
  assert.ok(k.yieldables.slice(0, MAX_YIELDS).every((y) => y), "the first ones could give way");
  assert.equal(k.yieldables.at(-1), false, "the last one could not");
  assert.equal(r.logs.length, 0, "nothing logged");

  // Saves that must finish never give way.
  await r.supervisor.execute("a", "i = 10");
  assert.equal(await r.supervisor.stop("a"), true);
  assert.equal(k.yieldables.at(-1), false);
});

Deno.test("a kernel that dies comes back from its freshest snapshot, and says what was lost", async () => {
  await using r = rig();
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "x = 1");
  await r.supervisor.save("a");
  await r.supervisor.execute("a", "x = 2");
  await r.supervisor.tick(); // records the execution count
  const outcome = await r.kernel("a").die();
  assert.equal(outcome.restoredFrom?.version, 1);
  assert.match(outcome.lost, /changes made after the last save/);
  assert.match(outcome.lost, /cell 2 ran after the last save and was lost/);
  assert.equal((await r.supervisor.execute("a", "x")).data?.["text/plain"], "1");
});

Deno.test("a kernel that dies with nothing saved says that all variables were lost", async () => {
  await using r = rig();
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "x = 1");
  const outcome = await r.kernel("a").die();
  assert.equal(outcome.restoredFrom, undefined);
  assert.match(outcome.lost, /all variables: there was no saved state to restore/);
});

/** Kernel "a" saved as versions 1 (`x` 1) and 2 (`x` 2), and its own restore. */
async function savedTwice(r: Rig) {
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "x = 1");
  await r.supervisor.save("a");
  await r.supervisor.execute("a", "x = 2");
  await r.supervisor.save("a");
  const a = r.kernel("a");
  return { a, restore: a.restore.bind(a) };
}

Deno.test("a snapshot that fails to load is quarantined and the previous one used", async () => {
  await using r = rig();
  const { a, restore } = await savedTwice(r);
  a.restore = (body) =>
    new TextDecoder().decode(body).includes('"x":2')
      ? Promise.reject(new Error("bad body"))
      : restore(body);
  const outcome = await a.die();
  assert.equal(outcome.restoredFrom?.version, 1);
  assert.match(outcome.lost, /snapshot version 2 .* failed to load and was quarantined: bad body/);
  const v2 = (await r.registry.listSnapshots("a")).find((s) => s.version === 2);
  assert.deepEqual(v2?.quarantined, { at: r.clock.now, reason: "bad body" });
  assert.equal(r.logs.length, 1, "and it was logged");
});

Deno.test("a snapshot whose sandbox crashed while loading it is tried once more before quarantine", async () => {
  await using r = rig();
  const { a, restore } = await savedTwice(r);
  let crashes = 1;
  const crash = () =>
    Object.assign(new Error("The kernel process died (panic)"), {
      name: "KernelCrashError",
    });
  a.restore = (body) => crashes-- > 0 ? Promise.reject(crash()) : restore(body);
  const once = await a.die();
  assert.equal(once.restoredFrom?.version, 2, "the sound snapshot loaded on its second try");
  assert.doesNotMatch(once.lost, /quarantined/);
  assert.match(r.logs.join("\n"), /died loading snapshot version 2, trying it once more/);

  // Twice in a row is the snapshot's doing: it is quarantined and the one before it used.
  crashes = 2;
  const twice = await a.die();
  assert.equal(twice.restoredFrom?.version, 1);
  assert.match(twice.lost, /snapshot version 2 .* failed to load and was quarantined: The kernel/);
  assert.ok((await r.registry.listSnapshots("a")).find((s) => s.version === 2)?.quarantined);
});

Deno.test("ephemeral kernels live in their own store and are never evicted", async () => {
  await using r = rig({ maxKernels: 1 });
  await r.supervisor.create("e", { persistent: false });
  await r.supervisor.execute("e", "y = 5");
  assert.equal(await r.registry.getKernel("e"), undefined, "never written to the registry");
  assert.equal((await r.supervisor.record("e"))?.state, "live");
  await assert.rejects(r.supervisor.create("p", { persistent: true }), CapacityError);
  await r.supervisor.save("e");
  const outcome = await r.kernel("e").die();
  assert.equal(outcome.restoredFrom?.version, 1, "restored from its in-memory save");
});

Deno.test("a registered kernel costs nothing until its first request, then starts empty", async () => {
  await using r = rig();
  await r.supervisor.register("k", { ownerSession: "s" });
  assert.equal(r.started.length, 0);
  assert.equal(await r.supervisor.has("k"), true);
  assert.equal((await r.supervisor.execute("k", "z = 3")).data?.["text/plain"], "3");
  assert.equal(r.started.length, 1);
  await r.supervisor.close("k");
  assert.equal(await r.supervisor.has("k"), false);
  await assert.rejects(r.supervisor.execute("k", "z"), KernelNotFoundError);
});

Deno.test("rehydration starts the most recently active live kernels up to the cap", async () => {
  const registry = openMemoryRegistry();
  for (const [id, at] of [["old", 1], ["new", 3], ["mid", 2]] as const) {
    await registry.createKernel({ id, now: at });
  }
  const factory = fakeFactory();
  const supervisor = new Supervisor({
    ...hostOptions(registry),
    startKernel: factory.start,
    maxKernels: 2,
  });
  await supervisor.rehydrate();
  assert.deepEqual(factory.started.map((k) => k.id), ["new", "mid"]);
  assert.equal((await registry.getKernel("old"))?.state, "stored");
  await supervisor.shutdown(0);
  assert.equal((await registry.getKernel("new"))?.state, "live", "rehydrated again next time");
});

Deno.test("shutdown saves each changed persistent kernel once and reports saves and failures", async () => {
  await using r = rig();
  for (const id of ["a", "b", "clean"]) await r.supervisor.create(id, { persistent: true });
  await r.supervisor.create("scratch", { persistent: false });
  for (const id of ["a", "b", "scratch"]) await r.supervisor.execute(id, "x = 1");
  r.kernel("b").onSnapshot = () => {
    throw new Error("disk full");
  };
  const report = await r.supervisor.shutdown(0);
  assert.deepEqual(report, { saved: 1, failed: ["disk full"] });
  assert.equal((await r.registry.listSnapshots("a")).length, 1);
  assert.equal((await r.registry.listSnapshots("b")).length, 0);
  assert.equal((await r.registry.listSnapshots("clean")).length, 0);
});

Deno.test("a failed save is said on every result until a save works, logged once, retried later", async () => {
  await using r = rig({ saveIntervalMs: 1 });
  await r.supervisor.create("a", { persistent: true });
  const a = r.kernel("a");
  const snapshot = a.snapshot.bind(a);
  a.snapshot = () => Promise.reject(new Error("Cannot save the kernel: too big"));
  const first = await r.supervisor.execute("a", "x = 1");
  await r.supervisor.save("a");
  const second = await r.supervisor.execute("a", "x += 1");
  assert.match(second.saveFailed ?? "", /too big/);
  assert.equal(first.saveFailed, undefined, "the first result came before the failed save");
  // Due by the interval at every tick, but held back by the retry delay (1 s, then doubling).
  for (let i = 0; i < 5; i++) {
    r.clock.now += 10;
    await r.supervisor.tick();
  }
  assert.equal(r.logs.length, 1, `logged once: ${r.logs.join(" | ")}`);
  a.snapshot = snapshot;
  r.clock.now += 60_000;
  await r.supervisor.tick();
  await r.supervisor.save("a");
  const third = await r.supervisor.execute("a", "x");
  assert.equal(third.saveFailed, undefined);
  assert.equal((await r.registry.listSnapshots("a")).length, 1);
});

/** A snapshot refused as the kernel refuses one for the size of its variables. */
function refuseSaves(kernel: FakeKernel): () => void {
  const snapshot = kernel.snapshot.bind(kernel);
  kernel.snapshot = () =>
    Promise.reject(
      Object.assign(
        new Error(
          "Cannot save the kernel: its variables hold 310 MB, more than a save can serialize",
        ),
        { name: "SaveRefusedError" },
      ),
    );
  return () => kernel.snapshot = snapshot;
}

Deno.test("at the cap, an idle kernel that cannot be saved makes a newcomer refused at once, saying why", async () => {
  await using r = rig({ maxKernels: 1, capacityWaitMs: 60_000 });
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "huge = 1");
  refuseSaves(r.kernel("a"));
  r.clock.now += 12_000;
  const started = Date.now();
  await assert.rejects(r.supervisor.create("b", { persistent: true }), (error: Error) => {
    assert.ok(error instanceof CapacityError);
    assert.equal(
      error.message,
      "The host is at capacity: the one live kernel holds unsaved state that cannot be saved " +
        "(a kernel last active 12 s ago: its variables hold 310 MB, more than a save can " +
        "serialize); free memory in it, close it, or raise --max-kernels",
    );
    return true;
  });
  assert.ok(Date.now() - started < 30_000, "no capacity wait");
  assert.equal(r.supervisor.isLive("a"), true, "a keeps running, unsaved");
});

Deno.test("at the cap, when the least recently used kernel cannot be saved, the next one is stopped instead", async () => {
  await using r = rig({ maxKernels: 2, capacityWaitMs: 60_000 });
  await r.supervisor.create("old", { persistent: true });
  await r.supervisor.execute("old", "huge = 1");
  refuseSaves(r.kernel("old"));
  r.clock.now += 10;
  await r.supervisor.create("newer", { persistent: true });
  await r.supervisor.create("c", { persistent: true });
  assert.equal(r.supervisor.isLive("old"), true);
  assert.equal(r.supervisor.isLive("newer"), false);
  assert.equal(r.supervisor.isLive("c"), true);
});

Deno.test("after a save refused for its size, the next cell's result says whether the state is saved now", async () => {
  await using r = rig({ saveIntervalMs: 60_000 });
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "huge = 1");
  const allow = refuseSaves(r.kernel("a"));
  assert.equal(await r.supervisor.save("a"), false);
  const still = await r.supervisor.execute("a", "x = 1");
  assert.match(still.saveFailed ?? "", /310 MB/, "still too big: said");
  // The cell that frees the memory: its result no longer says "Not saved", within the back-off.
  allow();
  const freed = await r.supervisor.execute("a", "huge = 0");
  assert.equal(freed.saveFailed, undefined);
  assert.equal((await r.registry.listSnapshots("a")).length, 1, "saved after that cell");
});

Deno.test("a kernel brought back after an eviction goes on counting its cells", async () => {
  await using r = rig({ maxKernels: 1 });
  await r.supervisor.create("a", { persistent: true });
  for (let i = 0; i < 3; i++) await r.supervisor.execute("a", "x += 1");
  await r.supervisor.create("b", { persistent: true });
  assert.equal(r.supervisor.isLive("a"), false);
  const back = await r.supervisor.execute("a", "x");
  assert.equal(back.executionCount, 4, "no cell number is given twice");
  assert.equal(back.data?.["text/plain"], "3");
});

Deno.test("after a host died unsaved, lost also says the lost cells' changes to earlier variables are undone", async () => {
  const registry = openMemoryRegistry();
  const options = hostOptions(registry);
  const before = new Supervisor({ ...options, startKernel: fakeFactory().start });
  await before.create("a", { persistent: true });
  await before.execute("a", "x = 1");
  await before.save("a");
  // Changes x, declares nothing; then one that declares y.
  await before.execute("a", "x += 4");
  await before.execute("a", "y = 2");
  const after = new Supervisor({ ...options, startKernel: fakeFactory().start });
  const back = await after.execute("a", "x");
  assert.equal(back.data?.["text/plain"], "1", "x is as the save had it");
  assert.equal(
    back.lost,
    "cells 2–3 ran after the last save and were lost, with the variables they declared: y; " +
      "any change they made to earlier variables is undone too (they hold their values of the " +
      "last save)",
  );
  await after.create("b", { persistent: true });
  await after.execute("b", "x = 1");
  await after.save("b");
  await after.execute("b", "x += 1");
  const again = new Supervisor({ ...options, startKernel: fakeFactory().start });
  const one = await again.execute("b", "x");
  assert.equal(one.data?.["text/plain"], "1");
  assert.equal(
    one.lost,
    "cell 2 ran after the last save and was lost; any change it made to earlier variables is " +
      "undone too (they hold their values of the last save)",
    "a cell that declared nothing is said to have changed what it changed",
  );
  await again.shutdown(0);
  await registry.close();
});

Deno.test("after a host died unsaved, the lost cells are named with the variables they declared", async () => {
  const registry = openMemoryRegistry();
  const options = hostOptions(registry);
  const before = new Supervisor({ ...options, startKernel: fakeFactory().start });
  await before.create("a", { persistent: true });
  await before.execute("a", "x = 1");
  await before.save("a");
  await before.execute("a", "y = 2");
  await before.execute("a", "z = 3");
  // The host is killed: no shutdown, no save. A new one opens the same registry.
  const after = new Supervisor({ ...options, startKernel: fakeFactory().start });
  const back = await after.execute("a", "x");
  assert.equal(back.data?.["text/plain"], "1");
  assert.equal(back.restoredFrom?.version, 1);
  assert.match(
    back.lost ?? "",
    /cells 2–3 ran after the last save and were lost, with the variables they declared: y, z/,
  );
  assert.equal(back.executionCount, 4, "the count goes on past the lost cells");
  await after.shutdown(0);
  await registry.close();
});

Deno.test("a cell answered while a save is being written is named as lost if the host dies", async () => {
  // Regression (found by the cluster's chaos rounds): the snapshot was credited with the cells
  // that ran while it was written, so a restore from it lost an answered cell without a word.
  const registry = openMemoryRegistry();
  const options = hostOptions(registry);
  // A shared registry's save writes the scratch files first: cells may run meanwhile.
  const gate = Promise.withResolvers<void>();
  const writing = Promise.withResolvers<void>();
  const files = {
    async save() {
      writing.resolve();
      await gate.promise;
      return [];
    },
    restore: () => Promise.resolve(undefined),
  };
  const before = new Supervisor({ ...options, files, startKernel: fakeFactory().start });
  await before.create("a", { persistent: true });
  await before.execute("a", "x = 1");
  const saved = before.save("a");
  await writing.promise;
  assert.equal((await before.execute("a", "y = 2")).executionCount, 2);
  gate.resolve();
  assert.equal(await saved, true);
  assert.equal((await registry.listSnapshots("a"))[0]!.executionCount, 1);
  // The host is killed before it saves again.
  const after = new Supervisor({ ...options, startKernel: fakeFactory().start });
  const back = await after.execute("a", "x");
  assert.match(back.lost ?? "", /cell 2 ran after the last save and was lost.*: y/);
  await after.shutdown(0);
  await registry.close();
});

Deno.test("a restart in a cancelled cell is said by the next result, even one finished first", async () => {
  // Regression (found by the cluster's chaos rounds): the cancelled cell kept its notice for the
  // next result only after writing its cell log, and a next cell that finished meanwhile
  // answered without it: an acknowledged cell was lost without a word.
  await using r = rig();
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.execute("a", "x = 1");
  await r.supervisor.save("a");
  await r.supervisor.execute("a", "x = 2");
  const record = r.registry.recordCell.bind(r.registry);
  const gate = Promise.withResolvers<void>();
  const writing = Promise.withResolvers<void>();
  r.registry.recordCell = async (...args) => {
    r.registry.recordCell = record;
    writing.resolve();
    await gate.promise;
    return await record(...args);
  };
  const cancelled = r.supervisor.execute("a", "cancelled, restarted");
  await writing.promise;
  const next = await r.supervisor.execute("a", "x");
  assert.equal(next.data?.["text/plain"], "1", "restarted from the save");
  assert.equal(next.restoredFrom?.version, 1);
  assert.match(next.lost ?? "", /cell 2 ran after the last save and was lost.*: x/);
  gate.resolve();
  assert.equal((await cancelled).status, "cancelled");
});

Deno.test("a kernel never saved names every cell it lost", async () => {
  const registry = openMemoryRegistry();
  const options = hostOptions(registry);
  const before = new Supervisor({ ...options, startKernel: fakeFactory().start });
  await before.create("a", { persistent: true });
  await before.execute("a", "rows = 5");
  const after = new Supervisor({ ...options, startKernel: fakeFactory().start });
  const back = await after.execute("a", "rows");
  assert.equal(back.data, undefined);
  assert.match(back.lost ?? "", /cell 1 ran before any save and was lost, .*: rows/);
  await after.shutdown(0);
  await registry.close();
});

Deno.test("a kernel's folder slot, recorded at its first start, is given to its later starts", async () => {
  await using r = rig();
  await r.supervisor.create("a", { persistent: true });
  await r.supervisor.create("e", { persistent: false });
  assert.equal(r.kernel("a").hooks.slot, null, "a new kernel has no slot yet");
  await r.kernel("a").hooks.recordSlot("slot-a");
  await r.kernel("e").hooks.recordSlot("slot-e");
  assert.equal((await r.registry.getKernel("a"))?.slot, "slot-a");
  assert.equal((await r.supervisor.record("e"))?.slot, "slot-e", "kept in the ephemeral store");
  await r.supervisor.execute("a", "x = 1");
  assert.equal(await r.supervisor.stop("a"), true);
  await r.supervisor.execute("a", "x");
  assert.equal(r.started.length, 3);
  assert.equal(r.kernel("a").hooks.slot, "slot-a", "an evicted kernel comes back to its slot");
});

Deno.test("a cell is in the registry's cell log while it runs, so a host that dies then can name it", async () => {
  await using r = rig();
  await r.supervisor.create("k", { persistent: true });
  await r.supervisor.execute("k", "a = 1");
  let finish!: () => void;
  r.kernel("k").executeGate = new Promise((resolve) => finish = resolve);
  const running = r.supervisor.execute("k", "b = 2");
  // The cell has started and not finished.
  for (let i = 0; i < 10; i++) await Promise.resolve();
  assert.deepEqual(
    (await r.registry.cellsAfter("k", 1)).map((c) => [c.cell, c.declared]),
    [[2, ["b"]]],
  );
  finish();
  const result = await running;
  assert.equal(result.status, "ok");
  assert.equal(result.executionCount, 2);
  assert.deepEqual((await r.registry.cellsAfter("k", 0)).map((c) => c.cell), [1, 2]);
});
