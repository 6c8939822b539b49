/**
 * The contract every `Registry` implementation passes, run once per implementation (as Hono runs
 * one router test suite against each router). Each `*_registry_test.ts` calls it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LeaseLostError, type Registry } from "../../src/registry/registry.ts";

/** Opens an empty registry of one implementation; disposing it removes what it wrote. */
export type OpenRegistry = () => Promise<{ registry: Registry } & AsyncDisposable>;

/** A snapshot to write (a text body goes as its UTF-8), with one skipped item. */
export const snap = (body: string | Uint8Array, executionCount = 1, savedAt = 1000) => ({
  body: typeof body === "string" ? new TextEncoder().encode(body) : body,
  format: 1,
  savedAt,
  executionCount,
  skipped: [{ path: "p", reason: "a Promise cannot be saved" }],
});

/** A body's bytes as text, for a body written as text; `undefined` for none. */
export const text = (body: Uint8Array | undefined): string | undefined =>
  body && new TextDecoder().decode(body);

/** Registers one test of the contract; by default each is its own `Deno.test`. */
export type RegisterTest = (name: string, fn: () => Promise<void>) => void;

/**
 * Registers the contract's tests for the implementation `name`. An implementation whose tests
 * share a server collects them through `register` and runs them as steps of one test.
 */
export function registryContract(
  name: string,
  open: OpenRegistry,
  register: RegisterTest = (what, fn) => Deno.test(what, fn),
): void {
  const test = (what: string, fn: (registry: Registry) => Promise<void>) =>
    register(`${name} registry: ${what}`, async () => {
      await using t = await open();
      await fn(t.registry);
    });

  test("snapshots get increasing versions and only the newest few are kept", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    for (let i = 1; i <= 5; i++) await r.saveSnapshot("k", snap(`body ${i}`, i, 1000 + i), 3);
    assert.deepEqual((await r.listSnapshots("k")).map((s) => s.version), [5, 4, 3]);
    const latest = (await r.loadSnapshot("k", 5))!;
    assert.equal(text(latest.body), "body 5");
    assert.equal(latest.size, 6);
    assert.deepEqual(latest.skipped, [{ path: "p", reason: "a Promise cannot be saved" }]);
    assert.equal(await r.loadSnapshot("k", 1), undefined, "pruned");
    const kernel = (await r.getKernel("k"))!;
    assert.equal(kernel.lastSavedAt, 1005);
    assert.equal(kernel.executionCount, 5);
  });

  test("a snapshot keeps the words of a loss not surely told yet, and null without", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    const loss = { words: "cells 2–3 ran after the last save and were lost", toldAt: 1234 };
    const saved = await r.saveSnapshot("k", { ...snap("a", 4), untoldLoss: loss }, 3);
    assert.deepEqual(saved.untoldLoss, loss);
    assert.equal((await r.saveSnapshot("k", snap("b", 5), 3)).untoldLoss, null);
    const untold = { words: "cell 6 ran after the last save and was lost", toldAt: null };
    await r.saveSnapshot("k", { ...snap("c", 7), untoldLoss: untold }, 3);
    assert.deepEqual((await r.listSnapshots("k")).map((s) => s.untoldLoss), [untold, null, loss]);
    assert.deepEqual((await r.loadSnapshot("k", 1))?.untoldLoss, loss);
    assert.equal((await r.loadSnapshot("k", 2))?.untoldLoss, null);
  });

  test("a snapshot's size counts UTF-8 bytes", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    const saved = await r.saveSnapshot("k", snap("é€"), 3);
    assert.equal(saved.size, 5);
  });

  test("a binary body comes back byte for byte, and its size is its length", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    // Every byte value (NULs, and no valid UTF-8), then 3 MB more: large bodies go in pieces.
    const small = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
    const large = new Uint8Array(3 * 2 ** 20 + 13);
    for (let i = 0; i < large.length; i++) large[i] = (i * 31 + (i >> 11)) % 256;
    for (const [i, body] of [small, large].entries()) {
      const meta = await r.saveSnapshot("k", { ...snap(body), format: 3 }, 5);
      assert.equal(meta.size, body.length);
      const loaded = (await r.loadSnapshot("k", i + 1))!;
      assert.equal(loaded.size, body.length);
      assert.equal(loaded.format, 3);
      assert.ok(loaded.body instanceof Uint8Array, "the body is bytes");
      assert.equal(loaded.body.length, body.length);
      assert.ok(loaded.body.every((b, at) => b === body[at]), `body ${i + 1} came back changed`);
    }
    assert.deepEqual((await r.listSnapshots("k")).map((s) => s.size), [large.length, 512]);
  });

  test("a quarantined snapshot is flagged, kept with its body and never pruned", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    await r.saveSnapshot("k", snap("v1"), 2);
    await r.quarantineSnapshot("k", 1, "JSON parse error", 2000);
    for (let i = 0; i < 4; i++) await r.saveSnapshot("k", snap(`later ${i}`), 2);
    const all = await r.listSnapshots("k");
    assert.deepEqual(all.map((s) => s.version), [5, 4, 1]);
    assert.deepEqual(all[2]?.quarantined, { at: 2000, reason: "JSON parse error" });
    assert.equal(text((await r.loadSnapshot("k", 1))!.body), "v1");
  });

  test("kernels are listed by state, most recently active first; names are unique", async (r) => {
    await r.createKernel({ id: "a", now: 1 });
    await r.createKernel({ id: "b", now: 2 });
    await r.createKernel({ id: "c", name: "work", now: 3 });
    await r.createKernel({ id: "s", state: "stored", now: 0 });
    await r.updateKernel("a", { lastActiveAt: 10 });
    await r.updateKernel("b", { state: "stored" });
    assert.deepEqual(
      (await r.listKernels({ state: "live", named: false })).map((k) => k.id),
      ["a"],
    );
    assert.deepEqual((await r.listKernels()).map((k) => k.id), ["a", "c", "b", "s"]);
    assert.deepEqual((await r.listKernels({ limit: 2 })).map((k) => k.id), ["a", "c"]);
    assert.deepEqual((await r.listKernels({ state: "stored" })).map((k) => k.id), ["b", "s"]);
    assert.equal((await r.findKernelByName("work"))?.id, "c");
    await assert.rejects(r.createKernel({ id: "d", name: "work", now: 4 }));
    await r.closeKernel("c");
    assert.equal(await r.findKernelByName("work"), undefined);
    assert.equal((await r.getKernel("c"))?.state, "closed");
    // A closed kernel's name can be taken again.
    await r.createKernel({ id: "d", name: "work", now: 4 });
  });

  test("closing a kernel deletes its snapshots, quarantined ones included", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    await r.saveSnapshot("k", snap("v1"), 3);
    await r.quarantineSnapshot("k", 1, "bad", 2);
    await r.saveSnapshot("k", snap("v2"), 3);
    await r.closeKernel("k");
    assert.deepEqual(await r.listSnapshots("k"), []);
  });

  test("an update leaves the fields it does not name as they were", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    await r.updateKernel("k", { executionCount: 7 });
    await r.updateKernel("k", { state: "stored" });
    await r.updateKernel("k", { lastActiveAt: undefined });
    const k = (await r.getKernel("k"))!;
    assert.deepEqual([k.state, k.executionCount, k.lastActiveAt, k.createdAt], ["stored", 7, 1, 1]);
    assert.equal(await r.getKernel("missing"), undefined);
  });

  test("a kernel's slot is set once and kept; two kernels cannot share one", async (r) => {
    await r.createKernel({ id: "a", now: 1 });
    await r.createKernel({ id: "b", now: 1 });
    assert.equal((await r.getKernel("a"))?.slot, null, "no slot before the first start");
    await r.updateKernel("a", { slot: "s1" });
    await r.updateKernel("a", { slot: "s2", executionCount: 3 });
    assert.deepEqual(
      [(await r.getKernel("a"))?.slot, (await r.getKernel("a"))?.executionCount],
      ["s1", 3],
    );
    await assert.rejects(r.updateKernel("b", { slot: "s1" }));
    assert.equal((await r.getKernel("b"))?.slot, null);
    await r.closeKernel("a");
    assert.equal((await r.getKernel("a"))?.slot, "s1", "a closed kernel's slot is never reused");
  });

  test("sessions record creation, activity, initialization and end", async (r) => {
    await r.createSession({ id: "s", now: 5, metadata: { client: "x" } });
    await r.updateSession("s", { lastActiveAt: 9 });
    await r.updateSession("s", { lastInitializedAt: 10 });
    await r.updateSession("s", { endedAt: 12 });
    assert.deepEqual(await r.getSession("s"), {
      id: "s",
      createdAt: 5,
      lastInitializedAt: 10,
      lastActiveAt: 9,
      metadata: { client: "x" },
      endedAt: 12,
    });
    await r.createSession({ id: "t", now: 20 });
    assert.deepEqual((await r.listSessions()).map((s) => s.id), ["t", "s"]);
    assert.deepEqual((await r.listSessions({ limit: 1 })).map((s) => s.id), ["t"]);
    assert.equal(await r.getSession("missing"), undefined);
  });

  test("a session's metadata is kept as it was when written", async (r) => {
    const metadata = { initialize: { clientInfo: { name: "c" } } };
    await r.createSession({ id: "s", now: 1, metadata });
    metadata.initialize.clientInfo.name = "changed";
    assert.deepEqual((await r.getSession("s"))?.metadata, {
      initialize: { clientInfo: { name: "c" } },
    });
  });

  test("a session's kernels are those it owns and has used, not closed ones", async (r) => {
    await r.createSession({ id: "s", now: 1 });
    await r.createSession({ id: "other", now: 1 });
    await r.createKernel({ id: "own", ownerSession: "s", now: 1 });
    await r.createKernel({ id: "shared", ownerSession: "other", now: 2 });
    await r.createKernel({ id: "foreign", ownerSession: "other", now: 3 });
    await r.recordKernelUse("s", "shared", 4);
    await r.recordKernelUse("s", "shared", 5);
    assert.deepEqual((await r.kernelsOfSession("s")).map((k) => k.id).sort(), ["own", "shared"]);
    await r.closeKernel("shared");
    assert.deepEqual((await r.kernelsOfSession("s")).map((k) => k.id), ["own"]);
  });

  test("the cell log keeps what no kept snapshot includes, in order", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    for (let cell = 1; cell <= 6; cell++) {
      await r.recordCell("k", { cell, declared: [`v${cell}`], at: cell });
    }
    assert.deepEqual((await r.cellsAfter("k", 4)).map((c) => c.declared), [["v5"], ["v6"]]);
    await r.saveSnapshot("k", snap("a", 3), 2);
    await r.saveSnapshot("k", snap("b", 5), 2);
    assert.deepEqual((await r.cellsAfter("k", 0)).map((c) => c.cell), [4, 5, 6], "kept after 3");
    await r.saveSnapshot("k", snap("c", 6), 2);
    assert.deepEqual((await r.cellsAfter("k", 0)).map((c) => c.cell), [6], "3 was pruned");
    await r.closeKernel("k");
    assert.deepEqual(await r.cellsAfter("k", 0), []);
  });

  test("a cell recorded again or out of order takes its place in the log, once", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    for (const cell of [1, 2, 4]) {
      await r.recordCell("k", { cell, declared: [`v${cell}`], at: cell });
    }
    await r.recordCell("k", { cell: 3, declared: ["late"], at: 5 });
    await r.recordCell("k", { cell: 4, declared: ["again"], at: 6 });
    await r.recordCell("k", { cell: 5, declared: ["v5"], at: 7 });
    assert.deepEqual(
      (await r.cellsAfter("k", 0)).map((c) => [c.cell, ...c.declared]),
      [[1, "v1"], [2, "v2"], [3, "late"], [4, "again"], [5, "v5"]],
    );
  });

  test("idle sessions and kernels are found by their last activity; counts of what is open", async (r) => {
    await r.createSession({ id: "old", now: 10 });
    await r.createSession({ id: "new", now: 100 });
    await r.createSession({ id: "ended", now: 10 });
    await r.updateSession("ended", { endedAt: 20 });
    assert.deepEqual(
      (await r.listSessions({ open: true, idleBefore: 50 })).map((s) => s.id),
      ["old"],
    );
    assert.equal((await r.listSessions({ open: true })).length, 2);

    await r.createKernel({ id: "handle", state: "stored", now: 10 });
    await r.createKernel({ id: "named", name: "n", state: "stored", now: 10 });
    await r.createKernel({ id: "owned", ownerSession: "old", state: "stored", now: 10 });
    await r.createKernel({ id: "fresh", state: "stored", now: 100 });
    await r.createKernel({ id: "gone", now: 10 });
    await r.closeKernel("gone");
    assert.deepEqual(
      (await r.listKernels({ state: "stored", named: false, idleBefore: 50 })).map((k) => k.id)
        .sort(),
      ["handle", "owned"],
    );
    assert.deepEqual(await r.counts(), { openSessions: 2, sessionlessKernels: 2 });
  });

  test("a secret is created by its first writer and then the same for every caller", async (r) => {
    assert.equal(await r.secret("host", "first"), "first");
    assert.equal(await r.secret("host", "second"), "first");
    assert.equal(await r.secret("other", "x"), "x");
  });

  test("a lease has one holder at a time; a released one is taken with the next epoch", async (r) => {
    const a = await r.acquireLease("k", "host-a", 60_000);
    assert.equal(a.ok && a.epoch, 1);
    const refused = await r.acquireLease("k", "host-b", 60_000);
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.holder, "host-a");
    assert.ok(a.ok && refused.expiresAt === a.expiresAt, "the refusal says until when");
    const again = await r.acquireLease("k", "host-a", 60_000);
    assert.equal(again.ok && again.epoch, 1, "the holder's own lease keeps its epoch");
    await r.releaseLease("k", { holder: "host-b", epoch: 1 });
    assert.equal(
      (await r.acquireLease("k", "host-b", 60_000)).ok,
      false,
      "only its holder frees it",
    );
    await r.releaseLease("k", { holder: "host-a", epoch: 1 });
    assert.equal((await r.getLease("k"))?.expiresAt, 0);
    const b = await r.acquireLease("k", "host-b", 60_000);
    assert.equal(b.ok && b.epoch, 2);
    assert.deepEqual(
      [(await r.getLease("k"))?.holder, (await r.getLease("k"))?.epoch],
      ["host-b", 2],
    );
    assert.equal(await r.getLease("never"), undefined);
  });

  test("an expired lease is taken by another holder, or renewed by its own", async (r) => {
    await r.acquireLease("gone", "host-a", 1);
    await r.acquireLease("late", "host-a", 1);
    // Past both leases' expiry by any clock: the registry's time has moved on by then.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const taken = await r.acquireLease("gone", "host-b", 60_000);
    assert.equal(taken.ok && taken.epoch, 2);
    assert.deepEqual(
      (await r.renewLeases("host-a", 60_000, [{ kernelId: "late", epoch: 1 }])).renewed,
      ["late"],
    );
    assert.equal((await r.acquireLease("late", "host-b", 60_000)).ok, false, "renewed");
  });

  test("leases are renewed in one call, only those the holder has under its epoch", async (r) => {
    for (const id of ["a", "b", "c"]) await r.acquireLease(id, "host-a", 60_000);
    await r.releaseLease("c", { holder: "host-a", epoch: 1 });
    await r.acquireLease("c", "host-b", 60_000);
    await r.acquireLease("d", "host-a", 60_000);
    await r.releaseLease("d", { holder: "host-a", epoch: 1 });
    const renewed = await r.renewLeases("host-a", 60_000, [
      { kernelId: "a", epoch: 1 },
      { kernelId: "b", epoch: 7 },
      { kernelId: "c", epoch: 1 },
      { kernelId: "d", epoch: 1 },
    ]);
    assert.deepEqual(renewed, { renewed: ["a"], wanted: [] }, "wrong epoch, another's, released");
    assert.deepEqual(await r.renewLeases("host-a", 60_000, []), { renewed: [], wanted: [] });
  });

  test("a handover request reaches the holder at its renewal and ends when the lease is taken", async (r) => {
    await r.acquireLease("k", "host-a", 60_000);
    await r.acquireLease("other", "host-a", 60_000);
    await r.requestHandover("k", "host-a");
    assert.equal((await r.getLease("k"))?.wantedBy, null, "a holder never asks itself");
    await r.requestHandover("k", "host-b");
    assert.equal((await r.getLease("k"))?.wantedBy, "host-b");
    const held = [{ kernelId: "k", epoch: 1 }, { kernelId: "other", epoch: 1 }];
    const renewal = await r.renewLeases("host-a", 60_000, held);
    assert.deepEqual([renewal.renewed.sort(), renewal.wanted], [["k", "other"], ["k"]]);
    await r.releaseLease("k", { holder: "host-a", epoch: 1 });
    await r.requestHandover("k", "host-c");
    assert.equal((await r.getLease("k"))?.wantedBy, "host-b", "a free lease needs no request");
    const b = await r.acquireLease("k", "host-b", 60_000);
    assert.equal(b.ok && b.epoch, 2);
    assert.equal((await r.getLease("k"))?.wantedBy, null);
  });

  test("a fenced write fails once another holder took the lease, writing nothing", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    const a = await r.acquireLease("k", "host-a", 60_000);
    assert.ok(a.ok);
    const fenceA = { holder: "host-a", epoch: a.epoch };
    await r.saveSnapshot("k", snap("from a", 1), 3, { fence: fenceA });
    await r.recordCell("k", { cell: 2, declared: ["x"], at: 2 }, { fence: fenceA });
    await r.updateKernel("k", { executionCount: 2 }, { fence: fenceA });
    await r.releaseLease("k", fenceA);
    const b = await r.acquireLease("k", "host-b", 60_000);
    assert.ok(b.ok);

    const refused = await r.saveSnapshot("k", snap("late", 3), 3, { fence: fenceA }).then(
      () => undefined,
      (error) => error,
    );
    assert.ok(refused instanceof LeaseLostError, String(refused));
    assert.deepEqual(refused.current, { holder: "host-b", epoch: b.epoch });
    assert.match(refused.message, /taken by host-b/);
    await assert.rejects(
      r.recordCell("k", { cell: 3, declared: ["y"], at: 3 }, { fence: fenceA }),
      LeaseLostError,
    );
    await assert.rejects(
      r.updateKernel("k", { state: "stored" }, { fence: fenceA }),
      LeaseLostError,
    );
    await assert.rejects(r.closeKernel("k", { fence: fenceA }), LeaseLostError);
    assert.deepEqual((await r.listSnapshots("k")).map((v) => v.version), [1]);
    assert.deepEqual((await r.cellsAfter("k", 0)).map((c) => c.cell), [2]);
    assert.deepEqual([(await r.getKernel("k"))?.state, (await r.getKernel("k"))?.executionCount], [
      "live",
      2,
    ]);

    await r.saveSnapshot("k", snap("from b", 3), 3, {
      fence: { holder: "host-b", epoch: b.epoch },
    });
    assert.equal(text((await r.loadSnapshot("k", 2))?.body), "from b");
    await assert.rejects(
      r.saveSnapshot("unleased", snap("x"), 3, { fence: fenceA }),
      LeaseLostError,
      "a fence without a lease row is refused",
    );
  });

  test("a kernel's scratch files are saved by change, listed, loaded and closed with it", async (r) => {
    await r.createKernel({ id: "k", now: 1 });
    const file = (path: string, text: string, mtimeMs = 5) => {
      const bytes = new TextEncoder().encode(text);
      return { path, size: bytes.length, mtimeMs, sha256: `h-${text}`, bytes };
    };
    const binary = { ...file("data/raw.bin", ""), bytes: new Uint8Array([0, 255, 1]), size: 3 };
    await r.saveFiles("k", { put: [file("notes.txt", "v1"), binary], remove: [] });
    await r.saveFiles("k", { put: [file("notes.txt", "v2", 9)], remove: ["missing"] });
    assert.deepEqual(await r.listFiles("k"), [
      { path: "data/raw.bin", size: 3, mtimeMs: 5, sha256: "h-" },
      { path: "notes.txt", size: 2, mtimeMs: 9, sha256: "h-v2" },
    ]);
    assert.deepEqual(await r.loadFile("k", "data/raw.bin"), new Uint8Array([0, 255, 1]));
    assert.equal(new TextDecoder().decode(await r.loadFile("k", "notes.txt")), "v2");
    assert.equal(await r.loadFile("k", "nope"), undefined);
    await r.saveFiles("k", { put: [], remove: ["notes.txt"] });
    assert.deepEqual((await r.listFiles("k")).map((f) => f.path), ["data/raw.bin"]);

    const a = await r.acquireLease("k", "host-a", 60_000);
    assert.ok(a.ok);
    await r.releaseLease("k", { holder: "host-a", epoch: a.epoch });
    await r.acquireLease("k", "host-b", 60_000);
    await assert.rejects(
      r.saveFiles("k", { put: [file("late.txt", "x")], remove: ["data/raw.bin"] }, {
        fence: { holder: "host-a", epoch: a.epoch },
      }),
      LeaseLostError,
    );
    assert.deepEqual((await r.listFiles("k")).map((f) => f.path), ["data/raw.bin"]);
    await r.closeKernel("k");
    assert.deepEqual(await r.listFiles("k"), []);
  });

  test("a closed registry rejects calls; closing twice is harmless", async (r) => {
    await r.close();
    await r.close();
    await assert.rejects(r.getKernel("k"));
  });
}
