import assert from "node:assert/strict";
import { VERSION } from "../src/version.ts";
import { connectStdio, ROOT } from "./_stdio.ts";

Deno.test("the version is deno.json's", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.match(VERSION, /^\d+\.\d+\.\d+/);
  assert.equal(VERSION, denoJson.version);
});

Deno.test("--version prints the version, and the MCP server announces the same one", async () => {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--version"],
    cwd: ROOT,
  }).output();
  assert.equal(o.code, 0);
  assert.equal(new TextDecoder().decode(o.stdout), `${VERSION}\n`);

  const dataDir = await Deno.makeTempDir({ prefix: "mkh-version-" });
  try {
    await using s = await connectStdio(["--data-dir", dataDir]);
    assert.deepEqual(s.client.getServerVersion(), { name: "mcp-kernel-host", version: VERSION });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
