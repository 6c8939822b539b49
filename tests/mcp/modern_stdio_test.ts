/**
 * Both eras over stdio: the v2 SDK's `Client` pinned to 2026-07-28 and in `auto` negotiation,
 * and a client that probes with `server/discover` and then opens with a legacy `initialize` on
 * the same connection (as Claude Code 2.1.280 does). Every era uses the process's kernel for a
 * call without a handle.
 */
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { initializeRequest } from "../../testing/host_process.ts";
import { converse, ROOT, spawnHost } from "../_stdio.ts";
import { callTool, ENVELOPE, MODERN } from "../_modern.ts";

/** A stdio host on a data folder of its own, never the user's default one. */
function transport(dataDir: string): StdioClientTransport {
  return new StdioClientTransport({
    command: Deno.execPath(),
    args: ["run", "-A", "main.ts", "--stdio", "--data-dir", dataDir],
    cwd: ROOT,
    env: { ...Deno.env.toObject(), NO_COLOR: "1" },
    stderr: "ignore",
  });
}

for (const mode of ["pinned", "auto"] as const) {
  Deno.test(`over stdio, a 2026-07-28 client (${mode}) uses the process's kernel without a handle and keeps its state`, async () => {
    const client = new Client({ name: "modern-stdio", version: "1.0.0" }, {
      versionNegotiation: { mode: mode === "pinned" ? { pin: MODERN } : "auto" },
    });
    const dataDir = await Deno.makeTempDir({ prefix: "mkh-stdio-modern-" });
    await client.connect(transport(dataDir));
    try {
      assert.equal(client.getNegotiatedProtocolVersion?.(), MODERN);
      const first = await callTool(client, "execute", { code: "const total = [1, 2, 3]" });
      assert.equal(first.out.new_kernel, undefined, "the process's kernel, not a new one");
      const kernel = first.out.kernel as string;
      const second = await callTool(client, "execute", { code: "total.reduce((a, b) => a + b)" });
      assert.equal(second.out.result, "6");
      assert.equal(second.out.kernel, kernel);
      const listed = await callTool(client, "list_kernels");
      assert.deepEqual(
        (listed.out.kernels as { kernel: string; default: boolean }[]).map((k) => [
          k.kernel,
          k.default,
        ]),
        [[kernel, true]],
      );
    } finally {
      await client.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}

Deno.test("over stdio, server/discover followed by a legacy initialize on the same connection is served in the legacy era", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-stdio-eras-" });
  const host = spawnHost(dataDir);
  const discover = {
    jsonrpc: "2.0",
    id: 1,
    method: "server/discover",
    params: { _meta: ENVELOPE },
  };
  const initialize = { ...initializeRequest(), id: 2 };
  const execute = (id: number, code: string) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: { name: "execute", arguments: { code } },
  });
  const talk = await converse(host, [
    discover,
    initialize,
    { jsonrpc: "2.0", method: "notifications/initialized" },
    execute(3, "let n = 20"),
    execute(4, "n + 22"),
  ], 4);
  await talk.writer.close();
  let text = talk.text;
  for (;;) {
    const { value, done } = await talk.reader.read();
    if (done) break;
    text += value;
  }
  await host.status;
  const messages = text.trim().split("\n").map((l) => JSON.parse(l));
  const byId = new Map(messages.map((m) => [m.id, m]));
  assert.ok(byId.get(1)?.result?.supportedVersions?.includes(MODERN), JSON.stringify(byId.get(1)));
  assert.equal(
    byId.get(2)?.result?.serverInfo?.name,
    "mcp-kernel-host",
    JSON.stringify(byId.get(2)),
  );
  assert.equal(byId.get(4)?.result?.structuredContent?.result, "42", JSON.stringify(byId.get(4)));
  await Deno.remove(dataDir, { recursive: true });
});
