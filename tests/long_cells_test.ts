/**
 * Long and runaway cells through the SDK's real Client, over HTTP and over stdio: a timeout or a
 * cancel interrupts the cell and the kernel keeps its variables (or names what it lost), and a
 * long cell reports progress with its newest output while it runs.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client as SdkClient } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { createHttpHandler } from "../src/mcp/http.ts";
import { openHost } from "./_host.ts";
import { connectStdio } from "./_stdio.ts";

type Out = { status: string; result?: string; lost?: string; error?: { message: string } };

/** A connected client over one transport, closed with everything behind it when disposed. */
interface Connection extends AsyncDisposable {
  client: Client;
}

async function overHttp(): Promise<Connection> {
  const t = await openHost();
  const handler = createHttpHandler({ host: t.host, log: () => {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler.fetch);
  const client = new SdkClient({ name: "long-cells", version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${server.addr.port}/mcp`)),
  );
  return {
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await handler.close();
      await server.shutdown();
      await t[Symbol.asyncDispose]();
    },
  };
}

async function overStdio(): Promise<Connection> {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-long-" });
  const session = await connectStdio(["--data-dir", dataDir]);
  return {
    client: session.client,
    async [Symbol.asyncDispose]() {
      await session[Symbol.asyncDispose]();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

async function execute(
  c: Client,
  code: string,
  options: { timeout_ms?: number; signal?: AbortSignal } = {},
): Promise<Out> {
  const r = await c.callTool(
    { name: "execute", arguments: { code, ...(options.timeout_ms && options) } },
    undefined,
    { signal: options.signal },
  );
  return r.structuredContent as Out;
}

const DEFINE = "let a = 1; let b = 2; const f = (x) => x * 2";
const CHECK = "[typeof a, typeof b, typeof f, f(b)]";
const ALL_THERE = '[ "number", "number", "function", 4 ]';

/** Cancels a call after `afterMs`; resolves with when the cancel was sent. */
async function cancelled(c: Client, code: string, afterMs: number): Promise<number> {
  const abort = new AbortController();
  const call = execute(c, code, { signal: abort.signal });
  await new Promise((r) => setTimeout(r, afterMs));
  const at = performance.now();
  abort.abort();
  await assert.rejects(call, /abort/i);
  return at;
}

for (const [transport, connect] of [["HTTP", overHttp], ["stdio", overStdio]] as const) {
  Deno.test(`over ${transport}, a timed-out while(true) and for(;;) keep every variable`, async () => {
    await using s = await connect();
    await execute(s.client, DEFINE);
    for (const loop of ["while (true) {}", "for (;;) {}"]) {
      const r = await execute(s.client, loop, { timeout_ms: 1000 });
      assert.equal(r.status, "timeout", loop);
      assert.equal(r.lost, undefined, loop);
      assert.match(r.error!.message, /nothing was lost/);
      const after = await execute(s.client, CHECK);
      assert.equal(after.result, ALL_THERE, `after ${loop}`);
      assert.equal(after.lost, undefined);
    }
  });

  Deno.test(`over ${transport}, a cancel while awaiting stops the cell and keeps every variable`, async () => {
    await using s = await connect();
    await execute(s.client, DEFINE);
    const at = await cancelled(s.client, "b = 5; await new Promise(() => {})", 300);
    const after = await execute(s.client, "[typeof a, b, f(b)]");
    assert.ok(performance.now() - at < 2000, "the next call answered within 2 s of the cancel");
    assert.equal(after.result, '[ "number", 5, 10 ]');
    assert.equal(after.lost, undefined);
  });

  Deno.test(`over ${transport}, a cancelled synchronous loop is stopped; the next result names what was lost`, async () => {
    await using s = await connect();
    await execute(s.client, DEFINE);
    const at = await cancelled(s.client, "while (true) {}", 300);
    const after = await execute(s.client, "[typeof a, typeof b, typeof f]");
    assert.ok(performance.now() - at < 2000, "the next call answered within 2 s of the cancel");
    assert.equal(after.status, "ok");
    // Nothing was saved, so the restart lost everything, and the result says so.
    assert.equal(after.result, '[ "undefined", "undefined", "undefined" ]');
    assert.match(after.lost ?? "", /all variables/);
    const again = await execute(s.client, "typeof a");
    assert.equal(again.lost, undefined, "the loss is told once");
  });

  Deno.test(`over ${transport}, a long cell sends progress with its newest output`, async () => {
    await using s = await connect();
    const messages: string[] = [];
    const r = await s.client.callTool(
      {
        name: "execute",
        arguments: {
          code: "for (let i = 1; i <= 6; i++) { console.log(`tick ${i}`); " +
            "await new Promise((r) => setTimeout(r, 500)) }",
        },
      },
      undefined,
      { onprogress: (p) => messages.push(p.message ?? "") },
    );
    const out = r.structuredContent as Out & { stdout: string };
    assert.equal(out.status, "ok");
    assert.equal(out.stdout.split("\n").filter(Boolean).length, 6, "the result keeps all output");
    assert.ok(messages.length >= 2, `${messages.length} progress notifications`);
    for (const m of messages) assert.match(m, /running for \d+\.\d s; newest output: tick [1-6]/);
    assert.notEqual(messages[0], messages.at(-1), "each names the newest line then");
  });
}
