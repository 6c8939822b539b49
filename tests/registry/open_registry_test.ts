import assert from "node:assert/strict";
import { join } from "node:path";
import { openHost } from "../_host.ts";
import { connectStdio, ROOT } from "../_stdio.ts";
import { openRegistry } from "../../src/registry/open_registry.ts";
import { type PostgresServer, postgresTest } from "./_postgres.ts";

postgresTest("a postgres:// registry keeps kernels across host restarts", async (t, server) => {
  await t.step(
    "two hosts in a row on one database: the second restores the first's kernel",
    () => inFolder((dataDir) => twoHosts(server, dataDir)),
  );
  await t.step(
    "the --registry flag reaches main: a stdio --kernel NAME survives a restart",
    () => inFolder((dataDir) => twoStdioProcesses(server, dataDir)),
  );
  await t.step(
    "deno task sessions --registry lists the PostgreSQL registry's sessions",
    () => inFolder((dataDir) => operatorList(server, dataDir)),
  );
});

async function twoHosts(server: PostgresServer, dataDir: string): Promise<void> {
  const registryUrl = await server.createDatabase("hosts");
  const open = async () =>
    openHost({ dataDir, registry: await openRegistry({ dataDir, registryUrl }) });
  let id: string;
  {
    await using first = await open();
    id = await first.host.createKernel();
    const ran = await first.host.execute(id, "class K { m() { return 40 } }\nconst k = new K()");
    assert.equal(ran.status, "ok");
    await first.host.execute(id, "let n = 2");
  } // Its shutdown saved the kernel and closed the registry.
  await using second = await open();
  const back = await second.host.execute(id, "k.m() + n");
  assert.equal(back.data?.["text/plain"], "42");
  assert.equal(back.restoredFrom?.version, 1);
  assert.equal(await hasSqliteRegistry(dataDir), false);
  await using admin = server.admin("hosts");
  const rows = await admin`SELECT version FROM snapshots WHERE kernel_id = ${id}`;
  assert.deepEqual(rows.map((r) => r.version), [1], "the snapshot is in PostgreSQL");
}

async function twoStdioProcesses(server: PostgresServer, dataDir: string): Promise<void> {
  const registryUrl = await server.createDatabase("stdio");
  const args = ["--data-dir", dataDir, "--kernel", "analysis", "--registry", registryUrl];
  {
    await using s = await connectStdio(args);
    assert.equal((await s.execute("let kept = 'from the first process'")).status, "ok");
  }
  await using s = await connectStdio(args);
  assert.equal((await s.execute("kept")).result, '"from the first process"');
  assert.equal(await hasSqliteRegistry(dataDir), false);
}

async function operatorList(server: PostgresServer, dataDir: string): Promise<void> {
  const registryUrl = await server.createDatabase("operator");
  {
    await using t = await openHost({
      dataDir,
      registry: await openRegistry({ dataDir, registryUrl }),
    });
    await t.host.sessions.open("session-one", { initialize: {} });
  }
  const listed = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "sessions", "--data-dir", dataDir, "--registry", registryUrl],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(listed.code, 0, new TextDecoder().decode(listed.stderr));
  assert.match(new TextDecoder().decode(listed.stdout), /session-one\s+open/);
}

/** Runs `fn` with a fresh data folder, removed afterwards. */
async function inFolder(fn: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-host-" });
  try {
    await fn(dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** Whether `dataDir` holds a SQLite registry: with `--registry`, it must not. */
async function hasSqliteRegistry(dataDir: string): Promise<boolean> {
  return await Deno.stat(join(dataDir, "registry.db")).then(() => true, () => false);
}
