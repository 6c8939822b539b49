/**
 * Leases with fake kernels: two supervisors on one memory registry play two hosts of one shared
 * registry, with one injected clock (the registry's and both hosts'). The same over PostgreSQL
 * with real sandboxes is in tests/multi_host_test.ts.
 */
import assert from "node:assert/strict";
import { openMemoryRegistry } from "../../src/registry/memory/memory_registry.ts";
import type { Registry } from "../../src/registry/registry.ts";
import { KernelLeasedError } from "../../src/supervisor/errors.ts";
import type { LeaseOptions } from "../../src/supervisor/leases.ts";
import { Supervisor } from "../../src/supervisor/supervisor.ts";
import { fakeFactory, type FakeKernel } from "./_fake_kernel.ts";

const TTL = 10_000;

interface FakeHost {
  supervisor: Supervisor;
  logs: string[];
  started: FakeKernel[];
}

interface Cluster extends AsyncDisposable {
  registry: Registry;
  clock: { now: number };
  host(holder: string, lease?: Partial<LeaseOptions>): FakeHost;
}

function cluster(): Cluster {
  const clock = { now: 1_000_000 };
  const registry = openMemoryRegistry({ now: () => clock.now });
  const hosts: Supervisor[] = [];
  return {
    registry,
    clock,
    host(holder, lease = {}) {
      const factory = fakeFactory();
      const logs: string[] = [];
      const supervisor = new Supervisor({
        registry,
        startKernel: factory.start,
        maxKernels: 4,
        idleTimeoutMs: 600_000,
        capacityWaitMs: 0,
        snapshotVersions: 3,
        saveIntervalMs: 600_000,
        saveEvery: 1_000,
        tickMs: 0,
        now: () => clock.now,
        log: (m) => logs.push(m),
        lease: { holder, ttlMs: TTL, handoverWaitMs: 0, ...lease },
      });
      hosts.push(supervisor);
      return { supervisor, logs, started: factory.started };
    },
    async [Symbol.asyncDispose]() {
      for (const h of hosts) await h.shutdown(0);
      await registry.close();
    },
  };
}

const text = (r: { data?: Record<string, unknown> }) => r.data?.["text/plain"];
/** A snapshot's body as text (the fake kernel writes JSON). */
const bodyText = (s: { body: Uint8Array } | undefined) => s && new TextDecoder().decode(s.body);

/**
 * Kernel `kernel` on `host`: `n = 1`, saved, then `unsaved` cells of `n += 1` after the save
 * (cells 2 to `unsaved + 1`, which a takeover then loses).
 */
async function savedThenRan(host: FakeHost, kernel: string, unsaved: number): Promise<void> {
  await host.supervisor.create(kernel, { persistent: true });
  await host.supervisor.execute(kernel, "n = 1");
  assert.equal(await host.supervisor.save(kernel), true);
  for (let i = 0; i < unsaved; i++) await host.supervisor.execute(kernel, "n += 1");
}

/** Waits until `holder` has asked for `kernel`'s lease (its request is waiting for it). */
async function untilWanted(c: Cluster, kernel: string, holder: string): Promise<void> {
  while ((await c.registry.getLease(kernel))?.wantedBy !== holder) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("a kernel held by a live busy host gets a retryable error naming the holder", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  await a.supervisor.create("k", { persistent: true });
  const error = await b.supervisor.execute("k", "x = 1").then(() => undefined, (e) => e);
  assert.ok(error instanceof KernelLeasedError, String(error));
  assert.equal(error.holder, "host-a");
  assert.equal(error.expiresAt, 1_000_000 + TTL);
  assert.match(error.message, /running on another host \(host-a\).*Retry in a few seconds/);
  assert.equal(b.supervisor.isLive("k"), false);
  assert.equal((await c.registry.getLease("k"))?.wantedBy, "host-b", "the holder was asked");
});

Deno.test("another host asks for a kernel: the holder saves, stops and hands it over", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b", { handoverWaitMs: 30_000 });
  await a.supervisor.create("k", { persistent: true });
  await a.supervisor.execute("k", "x = 5");
  const onB = b.supervisor.execute("k", "x += 1");
  // The holder sees the request at its next renewal (each tick, once a second has passed).
  await untilWanted(c, "k", "host-b");
  c.clock.now += 1_000;
  await a.supervisor.tick();
  const result = await onB;
  assert.equal(text(result), "6", "the state came along");
  assert.equal(result.restoredFrom?.version, 1);
  assert.equal(a.supervisor.isLive("k"), false);
  assert.equal(a.started[0]?.closed, true);
  const lease = await c.registry.getLease("k");
  assert.deepEqual([lease?.holder, lease?.epoch, lease?.wantedBy], ["host-b", 2, null]);
});

Deno.test("a stale holder's late save is refused; it stops the kernel without saving", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  await a.supervisor.create("k", { persistent: true });
  await a.supervisor.execute("k", "x = 1");
  // Host A stalls past its lease (it renews nothing); B takes the kernel over.
  c.clock.now += TTL + 1;
  const taken = await b.supervisor.execute("k", "y = 2");
  assert.match(taken.lost ?? "", /host that ran this kernel \(host-a\) stopped renewing its lease/);
  assert.match(taken.lost ?? "", /cell 1 ran before any save and was lost.*: x/);
  assert.equal(await b.supervisor.save("k"), true);

  assert.equal(await a.supervisor.save("k"), false, "A's late save");
  assert.deepEqual(a.logs, ["lost the lease of a kernel; its late save was refused"]);
  assert.equal(a.supervisor.isLive("k"), false);
  assert.equal(a.started[0]?.closed, true);
  const versions = await c.registry.listSnapshots("k");
  assert.equal(versions.length, 1, "only B's snapshot");
  assert.equal(bodyText(await c.registry.loadSnapshot("k", versions[0]!.version)), '{"y":2}');
});

Deno.test("a refused renewal stops the kernel at once; its next request acquires again", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  await a.supervisor.create("k", { persistent: true });
  await a.supervisor.execute("k", "x = 1");
  c.clock.now += TTL + 1;
  await b.supervisor.execute("k", "x = 7");
  await a.supervisor.tick();
  assert.equal(a.supervisor.isLive("k"), false);
  assert.match(a.logs.join("\n"), /lost the lease of a kernel; another host took it/);
  assert.deepEqual(await c.registry.listSnapshots("k"), [], "A saved nothing");

  assert.equal(await b.supervisor.stop("k"), true, "B saves and releases it");
  const back = await a.supervisor.execute("k", "x");
  assert.equal(text(back), "7");
  assert.equal((await c.registry.getLease("k"))?.epoch, 3);
});

Deno.test("a host resumed past its lease renews before serving, and forgets a taken kernel", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  await a.supervisor.create("k", { persistent: true });
  await a.supervisor.create("mine", { persistent: true });
  await a.supervisor.execute("k", "x = 1");
  await a.supervisor.save("k");
  c.clock.now += TTL + 1;
  await b.supervisor.execute("k", "x = 2");
  // A request reaches A before its next tick: A must not run it on its stale copy.
  const error = await a.supervisor.execute("k", "x").then(() => undefined, (e) => e);
  assert.ok(error instanceof KernelLeasedError, String(error));
  assert.equal(a.started.filter((k) => k.id === "k").length, 1, "not started again");
  assert.equal(a.started[0]?.closed, true);
  // Its other kernel was not taken: renewed on use, it serves on.
  assert.equal(text(await a.supervisor.execute("mine", "z = 3")), "3");
});

Deno.test("at start a host rehydrates only kernels it can lease and that were its own", async () => {
  await using c = cluster();
  const old = c.host("host-a/1");
  const other = c.host("host-b/1");
  for (const id of ["mine", "busy-elsewhere"]) {
    await old.supervisor.create(id, { persistent: true });
  }
  await other.supervisor.create("theirs", { persistent: true });
  await old.supervisor.shutdown(0);
  await other.supervisor.shutdown(0);
  const other2 = c.host("host-b/2");
  await other2.supervisor.ensureLive("busy-elsewhere");
  const again = c.host("host-a/2", { formerSelf: (h) => h.startsWith("host-a/") });
  await again.supervisor.rehydrate();
  assert.deepEqual(again.started.map((k) => k.id), ["mine"]);
  assert.equal((await c.registry.getLease("theirs"))?.holder, "host-b/1", "left for its host");
});

Deno.test("closing a kernel another host runs takes it over first", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b", { handoverWaitMs: 30_000 });
  await a.supervisor.create("k", { persistent: true });
  await a.supervisor.execute("k", "x = 1");
  const closing = b.supervisor.close("k");
  await untilWanted(c, "k", "host-b");
  c.clock.now += 1_000;
  await a.supervisor.tick();
  await closing;
  assert.equal((await c.registry.getKernel("k"))?.state, "closed");
  assert.equal(a.supervisor.isLive("k"), false);
});

Deno.test("a save running when the lease is lost is refused, whichever finishes first", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  await a.supervisor.create("k", { persistent: true });
  await a.supervisor.execute("k", "x = 1");
  let open!: () => void;
  a.started[0]!.snapshotGate = new Promise((resolve) => open = resolve);
  const saving = a.supervisor.save("k");
  c.clock.now += TTL + 1;
  await b.supervisor.execute("k", "x = 2");
  await b.supervisor.save("k");
  await a.supervisor.tick(); // the renewal is refused: A drops the kernel
  open();
  assert.equal(await saving, false);
  const versions = await c.registry.listSnapshots("k");
  assert.equal(versions.length, 1, "only B's");
  assert.equal(bodyText(await c.registry.loadSnapshot("k", versions[0]!.version)), '{"x":2}');
  assert.deepEqual(await c.registry.cellsAfter("k", 0), [], "nor a cell log row from A");
});

Deno.test("a cell whose log write is cut off while another host takes the kernel says its effect is not kept", async () => {
  // Found by the cluster's chaos rounds: a takeover ends a stalled holder's PostgreSQL sessions,
  // so the holder's cell log write fails with a closed connection instead of the fence's answer,
  // and the reply claimed an effect that the new holder never had.
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  await a.supervisor.create("k", { persistent: true });
  await a.supervisor.execute("k", "x = 1");
  await a.supervisor.save("k");
  const record = c.registry.recordCell.bind(c.registry);
  c.registry.recordCell = async () => {
    // A stalls past its lease while its write is on its way; B takes the kernel over, and A's
    // connection is closed.
    c.registry.recordCell = record;
    c.clock.now += TTL + 1;
    assert.equal(text(await b.supervisor.execute("k", "x")), "1");
    throw new Error("write CONNECTION_CLOSED");
  };
  const late = await a.supervisor.execute("k", "x = 2");
  assert.match(late.lost ?? "", /its effect is not kept/);
  assert.equal(a.supervisor.isLive("k"), false);
  assert.equal(text(await b.supervisor.execute("k", "x")), "1");
});

Deno.test("a loss found by a takeover whose caller left is told by the next host the kernel moves to", async () => {
  // Found by the cluster's chaos rounds: the request that made host B take the kernel over had
  // been given up by its client (its host was paused mid-request), so B kept the words of the
  // loss for its next reply; but the kernel moved on first, and B's save, numbered past the lost
  // cells, made the next host find nothing lost.
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  const d = c.host("host-d");
  await savedThenRan(a, "k", 2);
  // A stalls past its lease; B takes the kernel over for a request whose client is gone.
  c.clock.now += TTL + 1;
  await b.supervisor.execute("k", "n += 1", { signal: AbortSignal.abort() });
  // B saves and releases it (as a handover does); D has it next.
  assert.equal(await b.supervisor.stop("k"), true);
  const next = await d.supervisor.execute("k", "n += 1");
  assert.equal(text(next), "3", "cells 2–3 were lost, the abandoned cell 4 kept");
  assert.match(next.lost ?? "", /cells 2–3 ran after the last save and were lost/);
  assert.match(next.lost ?? "", /host that ran this kernel \(host-a\) stopped renewing its lease/);
  assert.match(next.lost ?? "", /said again/);
  // A request that comes after that reply finds it said: nothing more.
  c.clock.now += 1;
  assert.equal((await d.supervisor.execute("k", "n")).lost, undefined);
});

Deno.test("a loss told on a host is not told again as new when the kernel comes back to it", async () => {
  // Found by a trial on PostgreSQL: B took the kernel over and told the loss; the kernel went to
  // C, which said it again and had it heard; back on B, B's own words from before came back as
  // a fresh takeover, and an agent that redoes what a loss names did it a second time.
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  const d = c.host("host-d");
  await savedThenRan(a, "k", 1);
  c.clock.now += TTL + 1; // A stalls past its lease
  const taken = await b.supervisor.execute("k", "n");
  assert.match(taken.lost ?? "", /stopped renewing its lease/);
  c.clock.now += 1;
  assert.equal(await b.supervisor.stop("k"), true); // handed over, as to a host that asks
  await d.supervisor.execute("k", "n");
  c.clock.now += 1;
  assert.equal((await d.supervisor.execute("k", "n")).lost, undefined, "heard on D");
  assert.equal(await d.supervisor.stop("k"), true);
  const back = await b.supervisor.execute("k", "n");
  assert.equal(back.lost, undefined, "not told again on B");
});

Deno.test("a loss said to a request that waited for the lease is said again where the kernel goes next", async () => {
  // The chaos rounds' case: a request through nginx waited on host B for a paused holder's
  // lease; its client gave up, unseen by B (nginx closed the connection; the host noticed late
  // or never), so the one reply that said the loss reached no one. The client's next request
  // went to another host, which got an error; the one after that came to B, after that reply.
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b", { handoverWaitMs: 30_000 });
  const d = c.host("host-d");
  await savedThenRan(a, "k", 2);
  // A stalls; B's request waits for its lease to lapse.
  const waited = b.supervisor.execute("k", "n += 1");
  await untilWanted(c, "k", "host-b");
  c.clock.now += TTL + 1;
  assert.match((await waited).lost ?? "", /cells 2–3 ran after the last save and were lost/);
  // The next request here says it again, and that one counts.
  c.clock.now += 1;
  assert.match((await b.supervisor.execute("k", "n")).lost ?? "", /cells 2–3/);
  assert.equal((await b.supervisor.execute("k", "n")).lost, undefined);

  // Had the kernel moved on before that, the next host would have said it.
  const b2 = c.host("host-b2", { handoverWaitMs: 30_000 });
  await savedThenRan(a, "k2", 1);
  const waited2 = b2.supervisor.execute("k2", "n += 1");
  await untilWanted(c, "k2", "host-b2");
  c.clock.now += TTL + 1;
  assert.match((await waited2).lost ?? "", /cell 2 ran/);
  assert.equal(await b2.supervisor.stop("k2"), true);
  const next = await d.supervisor.execute("k2", "n += 1");
  assert.equal(text(next), "3");
  assert.match(next.lost ?? "", /^from an earlier restore \(said again.*cell 2 ran/);
  // Said again once more on the next host if it moves on at once, but never nested.
  assert.equal(await d.supervisor.stop("k2"), true);
  const again = await b.supervisor.execute("k2", "n");
  assert.equal(again.lost?.match(/from an earlier restore/g)?.length, 1, again.lost);
});

Deno.test("a kernel that moves before a request came after the reply that said its loss says it once more", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  const d = c.host("host-d");
  await savedThenRan(a, "k", 1);
  c.clock.now += TTL + 1;
  assert.match((await b.supervisor.execute("k", "n += 1")).lost ?? "", /cell 2 ran/);
  assert.equal(await b.supervisor.stop("k"), true);
  const next = await d.supervisor.execute("k", "n += 1");
  assert.equal(text(next), "3");
  assert.match(next.lost ?? "", /said again.*cell 2 ran/);
  assert.equal((await d.supervisor.execute("k", "n")).lost, undefined);
});

Deno.test("a loss is not said again once a request came after the reply that said it", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  const d = c.host("host-d");
  await savedThenRan(a, "k", 1);
  c.clock.now += TTL + 1;
  assert.match((await b.supervisor.execute("k", "n += 1")).lost ?? "", /cell 2 ran/);
  // On one host the order of requests tells, even within one millisecond.
  assert.equal((await b.supervisor.execute("k", "n += 1")).lost, undefined);
  assert.equal(await b.supervisor.stop("k"), true);
  const next = await d.supervisor.execute("k", "n");
  assert.equal(text(next), "3");
  assert.equal(next.lost, undefined, "nothing lost since; the old loss was told");
});

Deno.test("a loss not yet told survives the death of the host that found it", async () => {
  await using c = cluster();
  const a = c.host("host-a");
  const b = c.host("host-b");
  const d = c.host("host-d");
  await savedThenRan(a, "k", 1);
  c.clock.now += TTL + 1;
  await b.supervisor.execute("k", "n += 1", { signal: AbortSignal.abort() });
  // B saves (its periodic save), then dies before any reply told the loss.
  assert.equal(await b.supervisor.save("k"), true);
  c.clock.now += TTL + 1;
  const next = await d.supervisor.execute("k", "n += 1");
  assert.equal(text(next), "3");
  assert.match(next.lost ?? "", /cell 2 ran after the last save and was lost/);
});
