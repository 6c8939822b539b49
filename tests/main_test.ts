import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ROOT, startHostProcess } from "../scripts/host_process.ts";

function startServer(dataDir: string) {
  return startHostProcess(["--data-dir", dataDir]).then((h) => ({ ...h, url: new URL(h.url) }));
}

Deno.test("deno task serve's entry point serves HTTP, logs JSON to stderr and saves on SIGTERM", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-main-" });
  try {
    const first = await startServer(dataDir);
    assert.equal(first.url.hostname, "127.0.0.1");
    assert.equal(first.url.pathname, "/mcp");
    const transport = new StreamableHTTPClientTransport(first.url);
    const client = new Client({ name: "main-test", version: "1" });
    await client.connect(transport);
    await client.callTool({
      name: "execute",
      arguments: { code: "const kept = 'across restarts'" },
    });
    first.process.kill("SIGTERM");
    assert.equal((await first.process.status).code, 143);

    // The same session id, sent to the restarted server without a new initialize.
    const second = await startServer(dataDir);
    const reply = await fetch(second.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": transport.sessionId!,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 5,
        method: "tools/call",
        params: { name: "execute", arguments: { code: "kept" } },
      }),
    });
    assert.equal(reply.status, 200);
    assert.equal((await reply.json()).result.structuredContent.result, '"across restarts"');

    second.process.kill("SIGTERM");
    await second.process.status;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a cell running at SIGTERM gets its reply, its effect is saved, and the host exits", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-main-" });
  try {
    const first = await startServer(dataDir);
    const transport = new StreamableHTTPClientTransport(first.url);
    const client = new Client({ name: "main-test", version: "1" });
    await client.connect(transport);
    const running = client.callTool({
      name: "execute",
      arguments: {
        code: "await new Promise((r) => setTimeout(r, 1500)); const finished = 'yes'; finished",
      },
    });
    await new Promise((r) => setTimeout(r, 500));
    const signalled = performance.now();
    first.process.kill("SIGTERM");
    const reply = await running;
    assert.equal((reply.structuredContent as { result: string }).result, '"yes"');
    assert.equal((await first.process.status).code, 143);
    assert.ok(performance.now() - signalled < 5000 + 2000, "within the grace period");

    const second = await startServer(dataDir);
    const after = new Client({ name: "main-test", version: "1" });
    await after.connect(new StreamableHTTPClientTransport(second.url));
    const resumed = await fetch(second.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": transport.sessionId!,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "execute", arguments: { code: "finished" } },
      }),
    });
    assert.equal((await resumed.json()).result.structuredContent.result, '"yes"');
    await after.close();
    second.process.kill("SIGTERM");
    await second.process.status;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("binding beyond loopback without a bearer token is refused at start", async () => {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "--host", "0.0.0.0", "--port", "0"],
    cwd: ROOT,
  }).output();
  assert.equal(o.code, 2);
  assert.match(
    new TextDecoder().decode(o.stderr),
    /binding 0\.0\.0\.0 beyond loopback requires --auth-token/,
  );
});
