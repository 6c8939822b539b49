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

  Deno.test(`over ${transport}, a cancelled synchronous loop is stopped and keeps every variable`, async () => {
    await using s = await connect();
    await execute(s.client, DEFINE);
    const at = await cancelled(s.client, "b = 7; while (true) {}", 300);
    const after = await execute(s.client, "[typeof a, b, f(b)]");
    assert.ok(performance.now() - at < 2000, "the next call answered within 2 s of the cancel");
    assert.equal(after.result, '[ "number", 7, 14 ]');
    assert.equal(after.lost, undefined);
  });

  Deno.test(`over ${transport}, a loop after an await, or in a function an earlier cell defined, stops at the timeout or cancel and keeps every variable`, async () => {
    // As an analysis cell starts: it awaits a file or a fetch, then computes. The inspector's
    // timeout covers only a cell's synchronous start; the loops' own checks cover the rest.
    await using s = await connect();
    await execute(s.client, DEFINE);
    await execute(s.client, "function spin(n) { let i = 0; while (n > 0) i++; return i }");
    const wait = "await new Promise((r) => setTimeout(r, 20));";
    for (const cell of [`${wait} let i = 0; while (true) { i++ }`, `${wait} spin(1)`]) {
      const r = await execute(s.client, cell, { timeout_ms: 1000 });
      assert.equal(r.status, "timeout", cell);
      assert.match(r.error!.message, /nothing was lost/, cell);
      assert.equal(r.lost, undefined, cell);
      assert.equal((await execute(s.client, CHECK)).result, ALL_THERE, `after ${cell}`);
    }
    const at = await cancelled(s.client, `b = 3; ${wait} for (const x of [1]) for (;;) {}`, 300);
    const after = await execute(s.client, "[typeof a, b, f(b), typeof spin]");
    assert.ok(performance.now() - at < 2000, "the next call answered within 2 s of the cancel");
    assert.equal(after.result, '[ "number", 3, 6, "function" ]');
    assert.equal(after.lost, undefined);
    // The checks do not show in the function's source.
    const spin = await s.client.callTool({ name: "inspect_variable", arguments: { name: "spin" } });
    assert.doesNotMatch(JSON.stringify(spin), /__mkh/);
    assert.match(JSON.stringify(spin), /while \(n > 0\) i\+\+; return i/);
  });

  Deno.test(`over ${transport}, a loop in code the kernel did not compile, after an await, is stopped with its process; the next result names what was lost`, async () => {
    await using s = await connect();
    await execute(s.client, DEFINE);
    const code = 'await new Promise((r) => setTimeout(r, 20)); eval("while (true) {}")';
    const at = await cancelled(s.client, code, 300);
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

Deno.test("over HTTP, a background cell returns at once; its status shows output, then the result", async () => {
  await using s = await overHttp();
  const call = (name: string, args: Record<string, unknown>) =>
    s.client.callTool({ name, arguments: args }).then((r) =>
      r.structuredContent as Out & { cell?: string; kernel: string; stdout: string }
    );
  await execute(s.client, "let n = 0");
  const t0 = performance.now();
  const started = await call("execute", {
    code: "for (let i = 1; i <= 5; i++) { console.log(`step ${i}`); n++; " +
      "await new Promise((r) => setTimeout(r, 1000)) } 'finished'",
    background: true,
  });
  assert.ok(performance.now() - t0 < 1000, "returned at once");
  assert.equal(started.status, "running");
  assert.ok(started.cell);
  await new Promise((r) => setTimeout(r, 1500));
  const asked = performance.now();
  const running = await call("cell_status", { cell: started.cell });
  assert.ok(performance.now() - asked < 500, "answered without waiting for the cell");
  assert.equal(running.status, "running");
  assert.match(running.stdout, /step 1\n/);
  // Another kernel is unaffected; a request to this one waits for the cell.
  const { kernel: other } = (await s.client.callTool({ name: "create_kernel", arguments: {} }))
    .structuredContent as { kernel: string };
  const fast = performance.now();
  const there = await s.client.callTool({
    name: "execute",
    arguments: { code: "2", kernel: other },
  });
  assert.equal((there.structuredContent as Out).result, "2");
  assert.ok(performance.now() - fast < 1000, "the other kernel answered at once");
  const queued = await execute(s.client, "n");
  assert.equal(queued.result, "5", "a request to the busy kernel ran after the cell");
  const done = await call("cell_status", { cell: started.cell });
  assert.equal(done.status, "ok");
  assert.equal(done.result, '"finished"');
  assert.equal(done.stdout, "step 1\nstep 2\nstep 3\nstep 4\nstep 5\n");
  assert.equal(done.cell, started.cell);
  const unknown = await s.client.callTool({ name: "cell_status", arguments: { cell: "nope" } });
  assert.equal(unknown.isError, true);
  assert.match((unknown.content as { text: string }[])[0]?.text ?? "", /Unknown cell nope/);
});

Deno.test("over HTTP, a runaway background cell is cancelled through cell_status; the kernel keeps its variables", async () => {
  await using s = await overHttp();
  await execute(s.client, "const keep = { v: 1 }");
  const started = (await s.client.callTool({
    name: "execute",
    arguments: { code: "let i = 0; while (true) { i++ }", background: true, timeout_ms: 120_000 },
  })).structuredContent as { cell: string };
  await new Promise((r) => setTimeout(r, 300));
  const asked = performance.now();
  const stopped = (await s.client.callTool({
    name: "cell_status",
    arguments: { cell: started.cell, cancel: true },
  })).structuredContent as Out;
  assert.equal(stopped.status, "cancelled", JSON.stringify(stopped));
  assert.ok(performance.now() - asked < 3000, "answered once the cell ended");
  // The kernel is free again, with its variables and what the cell did.
  const after = await execute(s.client, "[keep.v, i > 0]");
  assert.equal(after.result, "[ 1, true ]");
  // A finished cell is reported as it ended; a cancel of it changes nothing.
  const again = (await s.client.callTool({
    name: "cell_status",
    arguments: { cell: started.cell, cancel: true },
  })).structuredContent as Out;
  assert.equal(again.status, "cancelled");
});

Deno.test("over HTTP, a background cell outlives its client and is bounded by its timeout", async () => {
  const t = await openHost();
  const handler = createHttpHandler({ host: t.host, log: () => {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler.fetch);
  const url = new URL(`http://127.0.0.1:${server.addr.port}/mcp`);
  const connect = async () => {
    const c = new SdkClient({ name: "long-cells", version: "1" });
    await c.connect(new StreamableHTTPClientTransport(url));
    return c;
  };
  try {
    const first = await connect();
    await execute(first, "let kept = 'here'");
    const started = (await first.callTool({
      name: "execute",
      arguments: {
        code: "kept = 'after'; while (true) {}",
        background: true,
        timeout_ms: 1500,
      },
    })).structuredContent as { cell: string; kernel: string };
    await first.close();

    const second = await connect();
    let status: Out & { stdout: string } = { status: "running", stdout: "" };
    for (let i = 0; i < 50 && status.status === "running"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await second.callTool({
        name: "cell_status",
        arguments: { cell: started.cell, kernel: started.kernel },
      })).structuredContent as typeof status;
    }
    assert.equal(status.status, "timeout");
    assert.equal(status.lost, undefined);
    const after = await second.callTool({
      name: "execute",
      arguments: { code: "kept", kernel: started.kernel },
    });
    assert.equal((after.structuredContent as Out).result, '"after"');
    await second.close();
  } finally {
    await handler.close();
    await server.shutdown();
    await t[Symbol.asyncDispose]();
  }
});
