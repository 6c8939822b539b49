import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { CHUNK_BYTES } from "../../src/registry/sqlite/chunked_bodies.ts";
import { MIGRATIONS } from "../../src/registry/sqlite/migrations.ts";
import { openSqliteRegistry } from "../../src/registry/sqlite/sqlite_registry.ts";
import type { Registry } from "../../src/registry/registry.ts";
import { registryContract, snap, text } from "./registry_contract.ts";

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
  assert.equal(text((await t.registry.loadSnapshot("k", 1))!.body), "good");
});

/** A JSON-like body of about `mb` MB, with a 4-byte character near each 1 MiB piece boundary. */
function largeBody(mb: number, tag = ""): string {
  const parts: string[] = [tag];
  for (let i = 0; i < mb; i++) {
    parts.push("x".repeat(CHUNK_BYTES - 1 - (i === 0 ? tag.length : 1)), "😀");
  }
  return parts.join("");
}

/** Pieces stored for a kernel, per version, read through a connection of the test's own. */
function storedPieces(path: string, kernelId: string): Record<number, number> {
  const db = new DatabaseSync(path);
  try {
    const rows = db.prepare(
      "SELECT version, COUNT(*) AS n FROM snapshot_chunks WHERE kernel_id = ? GROUP BY version",
    ).all(kernelId) as { version: number; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.version, r.n]));
  } finally {
    db.close();
  }
}

/** Waits, a turn of the event loop at a time, until `check` holds (at most 2,000 turns). */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(check(), "the condition never held");
}

Deno.test("a large body is stored in pieces and read back whole, size in UTF-8 bytes", async () => {
  await using t = await tempRegistry();
  await t.registry.createKernel({ id: "k", now: 1 });
  const body = largeBody(5, "é");
  const meta = await t.registry.saveSnapshot("k", snap(body), 3);
  assert.equal(meta.size, new TextEncoder().encode(body).length);
  assert.deepEqual(storedPieces(t.path, "k"), { 1: 6 });
  const loaded = await t.registry.loadSnapshot("k", 1);
  assert.equal(loaded!.size, meta.size);
  assert.ok(text(loaded!.body) === body, "the body came back changed");
});

Deno.test("the event loop runs while a large body is written and read", async () => {
  await using t = await tempRegistry();
  await t.registry.createKernel({ id: "k", now: 1 });
  const body = largeBody(20);
  const order: string[] = [];
  const save = t.registry.saveSnapshot("k", snap(body), 3).then(() => order.push("saved"));
  setTimeout(() => order.push("timer during the save"), 0);
  await save;
  const load = t.registry.loadSnapshot("k", 1).then(() => order.push("loaded"));
  setTimeout(() => order.push("timer during the load"), 0);
  await load;
  assert.deepEqual(order, ["timer during the save", "saved", "timer during the load", "loaded"]);
});

Deno.test("a large write that fails leaves no partial version, and its pieces are swept", async () => {
  await using t = await tempRegistry();
  await t.registry.createKernel({ id: "k", now: 1 });
  await t.registry.saveSnapshot("k", snap("good"), 3);
  const db = new DatabaseSync(t.path);
  db.exec(
    `CREATE TRIGGER fail BEFORE INSERT ON snapshot_chunks WHEN NEW.seq = 2
     BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
  );
  db.close();
  await assert.rejects(t.registry.saveSnapshot("k", snap(largeBody(4)), 3), /disk full/);
  assert.deepEqual((await t.registry.listSnapshots("k")).map((s) => s.version), [1]);
  assert.equal(text((await t.registry.loadSnapshot("k", 1))!.body), "good");
  await eventually(() => Object.keys(storedPieces(t.path, "k")).length === 0);
});

Deno.test("pieces of pruned versions and of a closed kernel are swept", async () => {
  await using t = await tempRegistry();
  await t.registry.createKernel({ id: "k", now: 1 });
  for (let i = 0; i < 3; i++) await t.registry.saveSnapshot("k", snap(largeBody(2, `${i}`)), 2);
  assert.deepEqual((await t.registry.listSnapshots("k")).map((s) => s.version), [3, 2]);
  await eventually(() => JSON.stringify(storedPieces(t.path, "k")) === '{"2":3,"3":3}');
  assert.ok(text((await t.registry.loadSnapshot("k", 2))!.body)!.startsWith("1x"));
  // A small body, kept inline, prunes a large one: its pieces go too.
  await t.registry.saveSnapshot("k", snap("small"), 2);
  await eventually(() => JSON.stringify(storedPieces(t.path, "k")) === '{"3":3}');
  await t.registry.closeKernel("k");
  await eventually(() => Object.keys(storedPieces(t.path, "k")).length === 0);
});

Deno.test("large saves of one kernel at once get versions in the order they were asked", async () => {
  await using t = await tempRegistry();
  await t.registry.createKernel({ id: "k", now: 1 });
  const bodies = [largeBody(3, "a"), "small", largeBody(2, "c")];
  const metas = await Promise.all(bodies.map((b) => t.registry.saveSnapshot("k", snap(b), 5)));
  assert.deepEqual(metas.map((m) => m.version), [1, 2, 3]);
  for (const [i, body] of bodies.entries()) {
    assert.ok(text((await t.registry.loadSnapshot("k", i + 1))!.body) === body, `version ${i + 1}`);
  }
});

Deno.test("leftovers of a write cut short are removed at open, or at the live kernel's next save", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mkh-registry-" });
  try {
    const path = join(dir, "registry.db");
    const first = await openSqliteRegistry(path);
    await first.createKernel({ id: "stored", state: "stored", now: 1 });
    await first.createKernel({ id: "live", now: 1 });
    await first.saveSnapshot("live", snap("v1"), 3);
    await first.close();
    // What a process killed in the middle of two large writes leaves: pieces, no snapshot row.
    const db = new DatabaseSync(path);
    const insert = db.prepare(
      "INSERT INTO snapshot_chunks (kernel_id, version, seq, data) VALUES (?, ?, 0, x'41')",
    );
    insert.run("stored", 1);
    insert.run("live", 2);
    db.close();
    await using registry = await openSqliteRegistry(path);
    assert.deepEqual(storedPieces(path, "stored"), {});
    // A live kernel may be another process's write in progress: only its own next save sweeps.
    assert.deepEqual(storedPieces(path, "live"), { 2: 1 });
    const meta = await registry.saveSnapshot("live", snap(largeBody(2)), 3);
    assert.equal(meta.version, 3);
    await eventually(() => JSON.stringify(storedPieces(path, "live")) === '{"3":3}');
    assert.deepEqual((await registry.listSnapshots("live")).map((s) => s.version), [3, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("snapshots stored before bodies were written in pieces stay readable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mkh-registry-" });
  try {
    const path = join(dir, "registry.db");
    const db = new DatabaseSync(path);
    for (const migration of MIGRATIONS.slice(0, 5)) db.exec(migration);
    db.exec("PRAGMA user_version = 5");
    db.exec(
      `INSERT INTO kernels (id, state, created_at, last_active_at) VALUES ('old', 'stored', 1, 1)`,
    );
    const old = largeBody(2);
    db.prepare(
      `INSERT INTO snapshots (kernel_id, version, saved_at, size, format, execution_count, body)
       VALUES ('old', 1, 5, ?, 1, 3, ?)`,
    ).run(old.length, old);
    db.close();
    await using registry = await openSqliteRegistry(path);
    assert.ok(text((await registry.loadSnapshot("old", 1))!.body) === old);
    await registry.saveSnapshot("old", snap(largeBody(3)), 3);
    assert.deepEqual((await registry.listSnapshots("old")).map((s) => s.version), [2, 1]);
    assert.ok(text((await registry.loadSnapshot("old", 1))!.body) === old);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

registryContract("sqlite", tempRegistry);
