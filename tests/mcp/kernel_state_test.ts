/**
 * No loss goes unsaid on any tool (persistence issue, item 2): `list_variables`,
 * `inspect_variable`, `complete` and `kernel_info` report a restore since the last cell, what it
 * lost, and a failed save, in text and in structured output, as `execute` does; the next
 * `execute` still reports the restore.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { serveHttp } from "../_http.ts";
import { withKernelState } from "../../src/mcp/kernel_state.ts";

async function connect(url: URL): Promise<Client> {
  const client = new Client({ name: "kernel-state-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const r = await client.callTool({ name, arguments: args });
  return {
    text: (r.content as { text?: string }[]).map((c) => c.text ?? "").join("\n"),
    out: r.structuredContent as Record<string, unknown>,
  };
}

Deno.test("after a host restart, the first tool to reach the kernel says it was restored, and so does the next execute", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-state-" });
  let kernel: string;
  {
    await using first = await serveHttp({ dataDir });
    const client = await connect(first.url);
    kernel = (await call(client, "execute", { code: "const rows = [1, 2, 3]" })).out
      .kernel as string;
    await client.close();
  }
  await using second = await serveHttp({ dataDir });
  const client = await connect(second.url);
  const listed = await call(client, "list_variables", { kernel });
  assert.deepEqual((listed.out.variables as { name: string }[]).map((v) => v.name), ["rows"]);
  assert.equal((listed.out.restored_from as { version: number }).version, 1);
  assert.match(listed.text, /Restored from snapshot version 1/);
  const info = await call(client, "kernel_info", { kernel });
  assert.equal((info.out.restored_from as { version: number }).version, 1, "until execute");
  const executed = await call(client, "execute", { code: "rows.length", kernel });
  assert.equal((executed.out.restored_from as { version: number }).version, 1);
  const later = await call(client, "complete", { code: "ro", kernel });
  assert.equal(later.out.restored_from, undefined, "told once execute has said it");
  await client.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("a failed save is said by list_variables, inspect_variable and kernel_info too", async () => {
  await using s = await serveHttp({ memoryLimit: 256 });
  const client = await connect(s.url);
  const kernel = (await call(client, "execute", {
    code: "const keep = { a: 1 }; let floats = new Float64Array(20_000_000).fill(0.5); 1",
  })).out.kernel as string;
  assert.equal(await s.host.save(kernel), false, "160 MB cannot be saved at a 256 MB limit");
  for (
    const [name, args] of [
      ["list_variables", {}],
      ["inspect_variable", { name: "keep" }],
      ["kernel_info", {}],
    ] as const
  ) {
    const r = await call(client, name, args);
    assert.match(r.out.save_failed as string, /Cannot save the kernel/, name);
    assert.match(r.text, /Not saved: Cannot save the kernel/, name);
  }
  await client.close();
});

Deno.test("what a restore brought back unchecked is said on its own line and field, apart from lost", () => {
  const said = withKernelState(
    { content: [{ type: "text", text: "rows" }], structuredContent: { variables: [] } },
    { restoredFrom: { version: 2, savedAt: 0, unchecked: "ps[1000] (not looked into)" } },
  );
  assert.equal(
    (said.content[0] as { text: string }).text,
    "rows\nRestored from snapshot version 2 (saved 1970-01-01T00:00:00.000Z)\n" +
      "Not checked (restored, a caveat rather than a loss): ps[1000] (not looked into)",
  );
  const out = said.structuredContent as Record<string, unknown>;
  assert.deepEqual([out.not_checked, out.lost], ["ps[1000] (not looked into)", undefined]);
});
