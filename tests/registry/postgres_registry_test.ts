import assert from "node:assert/strict";
import { MIGRATIONS } from "../../src/registry/postgres/migrations.ts";
import { openPostgresRegistry } from "../../src/registry/postgres/postgres_registry.ts";
import type { Registry } from "../../src/registry/registry.ts";
import { postgresTest } from "./_postgres.ts";
import { registryContract, snap } from "./registry_contract.ts";

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
      assert.equal((await s.registry.loadSnapshot("k", 1))!.body, "good");
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
