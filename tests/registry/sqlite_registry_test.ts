import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "../../src/registry/migrations.ts";
import { openSqliteRegistry } from "../../src/registry/sqlite_registry.ts";
import type { Registry } from "../../src/registry/registry.ts";

async function tempRegistry(): Promise<{ registry: Registry; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "mkh-registry-" });
  const path = join(dir, "registry.db");
  const registry = openSqliteRegistry(path);
  return {
    registry,
    path,
    async [Symbol.asyncDispose]() {
      registry.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const snap = (body: string, executionCount = 1, savedAt = 1000) => ({
  body,
  format: 1,
  savedAt,
  executionCount,
  skipped: [{ path: "p", reason: "a Promise cannot be saved" }],
});

Deno.test("the registry is created in WAL mode with the current schema version", async () => {
  await using t = await tempRegistry();
  const db = new DatabaseSync(t.path);
  assert.equal(
    (db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
    "wal",
  );
  assert.equal(
    (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    MIGRATIONS.length,
  );
  db.close();
  // Opening it again applies nothing twice.
  openSqliteRegistry(t.path).close();
});

Deno.test("a registry with a newer schema is refused rather than damaged", async () => {
  await using t = await tempRegistry();
  t.registry.close();
  const db = new DatabaseSync(t.path);
  db.exec("PRAGMA user_version = 99");
  db.close();
  assert.throws(() => openSqliteRegistry(t.path), { message: /schema version 99 is newer/ });
});

Deno.test("snapshots get increasing versions and only the newest few are kept", async () => {
  await using t = await tempRegistry();
  t.registry.createKernel({ id: "k", now: 1 });
  for (let i = 1; i <= 5; i++) t.registry.saveSnapshot("k", snap(`body ${i}`, i, 1000 + i), 3);
  assert.deepEqual(t.registry.listSnapshots("k").map((s) => s.version), [5, 4, 3]);
  const latest = t.registry.loadSnapshot("k", 5)!;
  assert.equal(latest.body, "body 5");
  assert.equal(latest.size, 6);
  assert.deepEqual(latest.skipped, [{ path: "p", reason: "a Promise cannot be saved" }]);
  const kernel = t.registry.getKernel("k")!;
  assert.equal(kernel.lastSavedAt, 1005);
  assert.equal(kernel.executionCount, 5);
});

Deno.test("a failed snapshot write leaves the previous versions as they were", async () => {
  await using t = await tempRegistry();
  t.registry.createKernel({ id: "k", now: 1 });
  t.registry.saveSnapshot("k", snap("good"), 1);
  // Make the transaction's last statement fail, after the insert and the pruning ran.
  const db = new DatabaseSync(t.path);
  db.exec(
    "CREATE TRIGGER fail BEFORE UPDATE ON kernels BEGIN SELECT RAISE(ABORT, 'disk full'); END",
  );
  db.close();
  assert.throws(() => t.registry.saveSnapshot("k", snap("new"), 1), /disk full/);
  assert.deepEqual(t.registry.listSnapshots("k").map((s) => s.version), [1]);
  assert.equal(t.registry.loadSnapshot("k", 1)!.body, "good");
});

Deno.test("a quarantined snapshot is flagged, kept with its body and never pruned", async () => {
  await using t = await tempRegistry();
  t.registry.createKernel({ id: "k", now: 1 });
  t.registry.saveSnapshot("k", snap("v1"), 2);
  t.registry.quarantineSnapshot("k", 1, "JSON parse error", 2000);
  for (let i = 0; i < 4; i++) t.registry.saveSnapshot("k", snap(`later ${i}`), 2);
  const all = t.registry.listSnapshots("k");
  assert.deepEqual(all.map((s) => s.version), [5, 4, 1]);
  assert.deepEqual(all[2].quarantined, { at: 2000, reason: "JSON parse error" });
  assert.equal(t.registry.loadSnapshot("k", 1)!.body, "v1");
});

Deno.test("kernels are listed by state, most recently active first; names are unique", async () => {
  await using t = await tempRegistry();
  t.registry.createKernel({ id: "a", now: 1 });
  t.registry.createKernel({ id: "b", now: 2 });
  t.registry.createKernel({ id: "c", name: "work", now: 3 });
  t.registry.updateKernel("a", { lastActiveAt: 10 });
  t.registry.updateKernel("b", { state: "stored" });
  assert.deepEqual(t.registry.listKernels({ state: "live", named: false }).map((k) => k.id), ["a"]);
  assert.deepEqual(t.registry.listKernels().map((k) => k.id), ["a", "c", "b"]);
  assert.equal(t.registry.findKernelByName("work")?.id, "c");
  assert.throws(() => t.registry.createKernel({ id: "d", name: "work", now: 4 }), /UNIQUE/);
  t.registry.closeKernel("c");
  assert.equal(t.registry.findKernelByName("work"), undefined);
  assert.equal(t.registry.getKernel("c")?.state, "closed");
});

Deno.test("sessions record creation, activity and end", async () => {
  await using t = await tempRegistry();
  t.registry.createSession({ id: "s", now: 5, metadata: { client: "x" } });
  t.registry.touchSession("s", 9);
  t.registry.endSession("s", 12);
  assert.deepEqual(t.registry.getSession("s"), {
    id: "s",
    createdAt: 5,
    lastInitializedAt: 5,
    lastActiveAt: 9,
    metadata: { client: "x" },
    endedAt: 12,
  });
});

Deno.test("a session's kernels are those it owns and those it has used, not closed ones", async () => {
  await using t = await tempRegistry();
  t.registry.createSession({ id: "s", now: 1 });
  t.registry.createSession({ id: "other", now: 1 });
  t.registry.createKernel({ id: "own", ownerSession: "s", now: 1 });
  t.registry.createKernel({ id: "shared", ownerSession: "other", now: 2 });
  t.registry.createKernel({ id: "foreign", ownerSession: "other", now: 3 });
  t.registry.recordKernelUse("s", "shared", 4);
  t.registry.recordKernelUse("s", "shared", 5);
  assert.deepEqual(t.registry.kernelsOfSession("s").map((k) => k.id).sort(), ["own", "shared"]);
  t.registry.closeKernel("shared");
  assert.deepEqual(t.registry.kernelsOfSession("s").map((k) => k.id), ["own"]);
});
