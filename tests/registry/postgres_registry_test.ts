import assert from "node:assert/strict";
import postgres from "postgres";
import { MIGRATIONS } from "../../src/registry/postgres/migrations.ts";
import { openPostgresRegistry } from "../../src/registry/postgres/postgres_registry.ts";
import type { Registry } from "../../src/registry/registry.ts";
import { postgresTest } from "./_postgres.ts";
import { registryContract, snap, text } from "./registry_contract.ts";

/**
 * Connections to `s`'s schema as a host's own look to the server (the application name a takeover
 * looks for), `max` of them: what a paused host holds.
 */
function hostConnection(s: { at: string; schema: string }, max: number) {
  const at = new URL(s.at);
  return postgres(`${at.protocol}//${at.username}@${at.host}${at.pathname}`, {
    host: at.searchParams.get("host")!,
    connection: { application_name: "mcp-kernel-host", search_path: s.schema },
    onnotice: () => {},
    max,
  });
}

// One server for the file; each step gets a registry in a schema of its own (`search_path`).
postgresTest(
  "postgres registry: the contract and PostgreSQL's own guarantees",
  async (t, server) => {
    const url = await server.createDatabase("registry");
    await using admin = server.admin("registry");
    let schemas = 0;
    const inSchema = async () => {
      const schema = `test_${++schemas}`;
      await admin.unsafe(`CREATE SCHEMA ${schema}`);
      const at = `${url}&search_path=${schema}`;
      const registry = await openPostgresRegistry(at);
      return {
        registry,
        at,
        schema,
        async [Symbol.asyncDispose]() {
          await registry.close();
          await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
        },
      };
    };

    const contract: [string, () => Promise<void>][] = [];
    registryContract("postgres", inSchema, (name, fn) => contract.push([name, fn]));
    for (const [name, fn] of contract) await t.step(name, fn);

    await t.step(
      "the schema version is recorded; opening again applies nothing twice",
      async () => {
        await using s = await inSchema();
        const rows = await admin.unsafe(`SELECT version FROM ${s.schema}.schema_version`);
        assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((_, i) => i + 1));
        await (await openPostgresRegistry(s.at)).close();
        assert.equal(
          (await admin.unsafe(`SELECT * FROM ${s.schema}.schema_version`)).length,
          MIGRATIONS.length,
        );
      },
    );

    await t.step("a registry with a newer schema is refused rather than damaged", async () => {
      await using s = await inSchema();
      await admin.unsafe(`INSERT INTO ${s.schema}.schema_version (version) VALUES (99)`);
      await assert.rejects(openPostgresRegistry(s.at), {
        message: /^Cannot open the PostgreSQL registry at .*: its schema version 99 is newer/,
      });
    });

    await t.step("a text body saved before bodies were bytes comes back as its UTF-8", async () => {
      const schema = `test_${++schemas}`;
      await admin.unsafe(`CREATE SCHEMA ${schema}`);
      try {
        // The schema as the three migrations before bodies were BYTEA left it, with a body.
        await admin.unsafe(`
          SET search_path = ${schema};
          CREATE TABLE schema_version (version INTEGER PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
          ${MIGRATIONS.slice(0, 3).join(";\n")};
          INSERT INTO schema_version (version) VALUES (1), (2), (3);
          INSERT INTO kernels (id, state, created_at, last_active_at) VALUES ('old', 'stored', 1, 1);
          INSERT INTO snapshots (kernel_id, version, saved_at, size, format, execution_count, body)
            VALUES ('old', 1, 5, 16, 1, 3, '{"café":"😀"}');
          SET search_path = public;
        `).simple();
        await using registry: Registry = await openPostgresRegistry(`${url}&search_path=${schema}`);
        const old = (await registry.loadSnapshot("old", 1))!;
        assert.ok(old.body instanceof Uint8Array, "the body is bytes");
        assert.equal(text(old.body), '{"café":"😀"}');
        assert.equal(old.body.length, old.size);
      } finally {
        await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      }
    });

    await t.step("a failed snapshot write leaves the previous versions as they were", async () => {
      await using s = await inSchema();
      await s.registry.createKernel({ id: "k", now: 1 });
      await s.registry.saveSnapshot("k", snap("good"), 1);
      // Make the transaction's last statement fail, after the insert and the pruning ran.
      await admin.unsafe(`
      CREATE FUNCTION ${s.schema}.fail() RETURNS trigger LANGUAGE plpgsql
        AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
      CREATE TRIGGER fail BEFORE UPDATE ON ${s.schema}.kernels
        FOR EACH ROW EXECUTE FUNCTION ${s.schema}.fail();
    `).simple();
      await assert.rejects(s.registry.saveSnapshot("k", snap("new"), 1), /disk full/);
      assert.deepEqual((await s.registry.listSnapshots("k")).map((v) => v.version), [1]);
      assert.equal(text((await s.registry.loadSnapshot("k", 1))!.body), "good");
    });

    await t.step("two registries on one database agree: one secret, one version each", async () => {
      await using s = await inSchema();
      await using other: Registry = await openPostgresRegistry(s.at);
      const secrets = await Promise.all([s.registry.secret("h", "a"), other.secret("h", "b")]);
      assert.equal(secrets[0], secrets[1]);
      await s.registry.createKernel({ id: "k", now: 1 });
      const saved = await Promise.all([
        s.registry.saveSnapshot("k", snap("one"), 5),
        other.saveSnapshot("k", snap("two"), 5),
      ]);
      assert.deepEqual(saved.map((v) => v.version).sort(), [1, 2]);
    });

    await t.step(
      "a takeover ends a stalled holder's transaction that locks the expired lease",
      async () => {
        await using s = await inSchema();
        await s.registry.createKernel({ id: "k", now: 1 });
        const a = await s.registry.acquireLease("k", "A", 500);
        assert.ok(a.ok);
        // What a host paused (SIGSTOP) inside a fenced write looks like to the server: its own
        // connection, idle in a transaction that holds the lease row's lock (FOR SHARE: at least
        // as strong as the lock a fenced write takes).
        const stalled = hostConnection(s, 1);
        await using _ = { [Symbol.asyncDispose]: () => stalled.end({ timeout: 0 }) };
        const reserved = await stalled.reserve();
        const [{ pid }] = await reserved<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
        await reserved`BEGIN`;
        await reserved`SELECT holder, epoch FROM leases WHERE kernel_id = 'k' FOR SHARE`;
        const alive = async () =>
          (await admin`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`).length === 1;

        // While the lease lives, another holder is refused at once, the stalled session kept.
        const early = await s.registry.acquireLease("k", "B", 5_000);
        assert.deepEqual({ ok: early.ok, holder: !early.ok && early.holder }, {
          ok: false,
          holder: "A",
        });
        assert.equal(await alive(), true);
        await new Promise((resolve) => setTimeout(resolve, 600));

        // Before the fix this waited for as long as the holder stayed stopped.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const taken = await Promise.race([
          s.registry.acquireLease("k", "B", 5_000),
          new Promise<"stuck">((resolve) => timer = setTimeout(() => resolve("stuck"), 15_000)),
        ]).finally(() => clearTimeout(timer));
        assert.notEqual(taken, "stuck", "the takeover waited 15 s for the stalled holder");
        assert.deepEqual(taken, { ...(taken as object), ok: true, epoch: a.ok && a.epoch + 1 });
        // The stalled session was ended (its transaction rolled back: nothing it wrote can land).
        // Not queried again: the driver throws from a timer on a reserved connection the server
        // closed.
        assert.equal(await alive(), false);
        assert.equal((await s.registry.getLease("k"))!.holder, "B");
      },
    );

    await t.step(
      "a takeover ends a stalled holder's transaction that blocks the lease row's lock through another write",
      async () => {
        // Found by the chaos rounds: the paused host's save held its kernel's row (FOR UPDATE),
        // and its cell log write, past the fence (holding the lease row), waited on that row for
        // the cells' foreign key: the takeover waited on the cell write, which waited on a lock,
        // not on its client, so neither was ended, for as long as the host stayed stopped.
        await using s = await inSchema();
        await s.registry.createKernel({ id: "k", now: 1 });
        const a = await s.registry.acquireLease("k", "A", 500);
        assert.ok(a.ok);
        const paused = hostConnection(s, 2);
        await using _ = { [Symbol.asyncDispose]: () => paused.end({ timeout: 0 }) };
        const save = await paused.reserve();
        await save`BEGIN`;
        await save`SELECT 1 FROM kernels WHERE id = 'k' FOR UPDATE`;
        const cell = await paused.reserve();
        await cell`BEGIN`;
        await cell`SELECT holder, epoch FROM leases WHERE kernel_id = 'k' FOR KEY SHARE`;
        // Waits for the save's row lock; never committed (the host is stopped).
        const inserting = cell`INSERT INTO cells (kernel_id, cell, declared, at)
          VALUES ('k', 1, '[]', 1)`.catch(() => "ended");
        await new Promise((resolve) => setTimeout(resolve, 600));

        let timer: ReturnType<typeof setTimeout> | undefined;
        const taken = await Promise.race([
          s.registry.acquireLease("k", "B", 5_000),
          new Promise<"stuck">((resolve) => timer = setTimeout(() => resolve("stuck"), 15_000)),
        ]).finally(() => clearTimeout(timer));
        assert.notEqual(taken, "stuck", "the takeover waited 15 s behind the stalled holder");
        assert.deepEqual(taken, { ...(taken as object), ok: true, epoch: a.ok && a.epoch + 1 });
        await inserting;
        assert.deepEqual(
          await s.registry.cellsAfter("k", 0),
          [],
          "the stalled cell write never landed",
        );
      },
    );

    await t.step(
      "concurrent fenced saves, cells, activity and renewals on a two-connection pool all finish",
      async () => {
        await using s = await inSchema();
        await using small: Registry = await openPostgresRegistry(`${s.at}&max=2`);
        const ids = ["k1", "k2", "k3", "k4"];
        const fences = new Map<string, { holder: string; epoch: number }>();
        for (const id of ids) {
          await small.createKernel({ id, now: 1 });
          const got = await small.acquireLease(id, "H", 60_000);
          assert.ok(got.ok);
          fences.set(id, { holder: "H", epoch: got.epoch });
        }
        const work: Promise<unknown>[] = [];
        for (let i = 0; i < 60; i++) {
          for (const id of ids) {
            const fence = fences.get(id)!;
            work.push(
              small.saveSnapshot(id, { ...snap(`body ${i}`), executionCount: i }, 2, { fence }),
              small.recordCell(id, { cell: i + 1, declared: ["x"], at: i }, { fence }),
              small.updateKernel(id, { lastActiveAt: i }, { fence }),
              small.acquireLease(id, "H", 60_000),
            );
          }
          const held = ids.map((id) => ({ kernelId: id, epoch: fences.get(id)!.epoch }));
          work.push(small.renewLeases("H", 60_000, held));
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const outcome = await Promise.race([
          Promise.all(work).then(() => "done"),
          new Promise((resolve) => timer = setTimeout(() => resolve("stuck"), 60_000)),
        ]).finally(() => clearTimeout(timer));
        assert.equal(outcome, "done");
        for (const id of ids) {
          const versions = await small.listSnapshots(id);
          assert.equal(versions.length, 2);
          assert.equal(versions[0]!.version, 60, "every save got its own version");
        }
      },
    );

    await t.step("a server that cannot be reached is named, without the password", async () => {
      const error = await openPostgresRegistry(
        "postgres://me:hunter2@localhost:5432/x?host=/nonexistent",
      ).then(() => undefined, (e: Error) => e);
      assert.match(
        error?.message ?? "",
        /^Cannot open the PostgreSQL registry at postgres:\/\/me:\*\*\*@localhost/,
      );
      assert.doesNotMatch(error?.message ?? "", /hunter2/);
    });
  },
);
