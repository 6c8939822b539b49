import assert from "node:assert/strict";
import { join } from "node:path";
import { openRegistry } from "../src/registry/open_registry.ts";

const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("the data folder is made 0700 and the registry with its WAL files 0600, an existing folder tightened", async () => {
  const parent = await Deno.makeTempDir({ prefix: "mkh-modes-" });
  try {
    const fresh = join(parent, "fresh", "data");
    {
      await using registry = await openRegistry({ dataDir: fresh });
      await registry.createSession({ id: "s", now: 1 });
      assert.equal(await mode(fresh), 0o700);
      for (const file of ["registry.db", "registry.db-wal", "registry.db-shm"]) {
        assert.equal(await mode(join(fresh, file)), 0o600, file);
      }
    }
    const loose = join(parent, "loose");
    await Deno.mkdir(loose, { mode: 0o755 });
    await Deno.chmod(loose, 0o755);
    await Deno.writeTextFile(join(loose, "registry.db"), "");
    await Deno.chmod(join(loose, "registry.db"), 0o644);
    await using registry = await openRegistry({ dataDir: loose });
    assert.equal(await mode(loose), 0o700);
    assert.equal(await mode(join(loose, "registry.db")), 0o600);
    assert.equal((await registry.listSessions()).length, 0, "an empty file is a new database");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
