import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "../../src/registry/sqlite/migrations.ts";
import { openSqliteRegistry } from "../../src/registry/sqlite/sqlite_registry.ts";
import type { Registry } from "../../src/registry/registry.ts";
import { registryContract, snap } from "./registry_contract.ts";

async function tempRegistry(): Promise<{ registry: Registry; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "mkh-registry-" });
  const path = join(dir, "registry.db");
  const registry = await openSqliteRegistry(path);
  return {
    registry,
    path,
    async [Symbol.asyncDispose]() {
      await registry.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

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
  await (await openSqliteRegistry(t.path)).close();
});

Deno.test("a registry of the schema before slots keeps its kernels, with no slot", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mkh-registry-" });
  try {
    const path = join(dir, "registry.db");
    const db = new DatabaseSync(path);
    for (const migration of MIGRATIONS.slice(0, 4)) db.exec(migration);
    db.exec("PRAGMA user_version = 4");
    db.exec(
      `INSERT INTO kernels (id, state, created_at, last_active_at) VALUES ('old', 'stored', 1, 1)`,
    );
    db.close();
    await using registry = await openSqliteRegistry(path);
    assert.equal((await registry.getKernel("old"))?.slot, null);
    await registry.updateKernel("old", { slot: "s" });
    assert.equal((await registry.getKernel("old"))?.slot, "s");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a registry with a newer schema is refused rather than damaged", async () => {
  await using t = await tempRegistry();
  await t.registry.close();
  const db = new DatabaseSync(t.path);
  db.exec("PRAGMA user_version = 99");
  db.close();
  await assert.rejects(openSqliteRegistry(t.path), { message: /schema version 99 is newer/ });
});

Deno.test("a failed snapshot write leaves the previous versions as they were", async () => {
  await using t = await tempRegistry();
  await t.registry.createKernel({ id: "k", now: 1 });
  await t.registry.saveSnapshot("k", snap("good"), 1);
  // Make the transaction's last statement fail, after the insert and the pruning ran.
  const db = new DatabaseSync(t.path);
  db.exec(
    "CREATE TRIGGER fail BEFORE UPDATE ON kernels BEGIN SELECT RAISE(ABORT, 'disk full'); END",
  );
  db.close();
  await assert.rejects(t.registry.saveSnapshot("k", snap("new"), 1), /disk full/);
  assert.deepEqual((await t.registry.listSnapshots("k")).map((s) => s.version), [1]);
  assert.equal((await t.registry.loadSnapshot("k", 1))!.body, "good");
});

registryContract("sqlite", tempRegistry);
