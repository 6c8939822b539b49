import assert from "node:assert/strict";
import { join } from "node:path";
import { openHost } from "../_host.ts";
import { connectStdio } from "../_stdio.ts";
import { openRegistry } from "../../src/registry/open_registry.ts";
import { postgresTest } from "./_postgres.ts";

/** Whether `dataDir` holds a SQLite registry: with `--registry`, it must not. */
async function hasSqliteRegistry(dataDir: string): Promise<boolean> {
  return await Deno.stat(join(dataDir, "registry.db")).then(() => true, () => false);
}

postgresTest(
  "with a postgres:// registry, kernels come back after a host restart",
  async (t, server) => {
    await t.step(
      "two hosts in a row on one database: the second restores the first's kernel",
      async () => {
        const registryUrl = await server.createDatabase("hosts");
        const dataDir = await Deno.makeTempDir({ prefix: "mkh-host-" });
        try {
          const open = async () =>
            openHost({ dataDir, registry: await openRegistry({ dataDir, registryUrl }) });
          let id: string;
          {
            await using first = await open();
            id = await first.host.createKernel();
            const ran = await first.host.execute(
              id,
              "class K { m() { return 40 } }\nconst k = new K(); let n = 2",
            );
            assert.equal(ran.status, "ok");
          } // Its shutdown saved the kernel and closed the registry.
          await using second = await open();
          const back = await second.host.execute(id, "k.m() + n");
          assert.equal(back.data?.["text/plain"], "42");
          assert.equal(back.restoredFrom?.version, 1);
          assert.equal(await hasSqliteRegistry(dataDir), false);
          await using admin = server.admin("hosts");
          const rows = await admin`SELECT version FROM snapshots WHERE kernel_id = ${id}`;
          assert.deepEqual(rows.map((r) => r.version), [1], "the snapshot is in PostgreSQL");
        } finally {
          await Deno.remove(dataDir, { recursive: true });
        }
      },
    );

    await t.step(
      "the --registry flag reaches main: a stdio --kernel NAME survives a restart",
      async () => {
        const registryUrl = await server.createDatabase("stdio");
        const dataDir = await Deno.makeTempDir({ prefix: "mkh-host-" });
        try {
          const args = ["--data-dir", dataDir, "--kernel", "analysis", "--registry", registryUrl];
          {
            await using s = await connectStdio(args);
            assert.equal((await s.execute("let kept = 'from the first process'")).status, "ok");
          }
          await using s = await connectStdio(args);
          const back = await s.execute("kept");
          assert.equal(back.result, '"from the first process"');
          assert.equal(await hasSqliteRegistry(dataDir), false);
        } finally {
          await Deno.remove(dataDir, { recursive: true });
        }
      },
    );
  },
);
