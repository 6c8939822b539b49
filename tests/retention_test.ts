/**
 * One retention policy for both eras (security issue, item 2): idle 2025-11-25 sessions end
 * (their ids get 404, their kernels stay), stored kernels idle past `--retention` are deleted
 * (named ones kept), open sessions plus sessionless kernels are capped, and session transports
 * in memory are bounded, the others resumed from the registry.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { initializeRequest } from "../testing/host_process.ts";
import { createHttpHandler, type HttpOptions } from "../src/mcp/http.ts";
import type { HostOptions } from "../src/host.ts";
import { openHost } from "./_host.ts";
import { callTool, modernClient } from "./_modern.ts";

const DAY = 86_400_000;

/** A host with a clock the test moves, served on a loopback port. */
async function serve(options: Partial<HostOptions> = {}, http: Partial<HttpOptions> = {}) {
  const clock = { now: Date.UTC(2026, 11, 2) };
  const t = await openHost({ now: () => clock.now, ...options });
  const handler = createHttpHandler({ host: t.host, log: () => {}, ...http });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler.fetch);
  return {
    ...t,
    clock,
    url: new URL(`http://127.0.0.1:${server.addr.port}/mcp`),
    async [Symbol.asyncDispose]() {
      await handler.close();
      await server.shutdown();
      await t[Symbol.asyncDispose]();
    },
  };
}

async function connect(url: URL) {
  const transport = new StreamableHTTPClientTransport(url);
  const client = new Client({ name: "retention-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

async function run(client: Client, code: string, kernel?: string) {
  const r = await client.callTool({
    name: "execute",
    arguments: { code, ...(kernel && { kernel }) },
  });
  return r.structuredContent as { result?: string; kernel: string };
}

Deno.test("an idle session ends at --session-idle-timeout: its id gets 404, its kernel stays usable by id", async () => {
  await using s = await serve({ sessionIdleTimeout: 3600 });
  const { client, transport } = await connect(s.url);
  const kernel = (await run(client, "const kept = 'still here'")).kernel;
  s.clock.now += 3_600_001;
  assert.deepEqual(await s.host.sweep(), { sessionsEnded: 1, kernelsDeleted: 0 });
  const after = await fetch(s.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": transport.sessionId!,
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
  });
  assert.equal(after.status, 404);
  await after.body?.cancel();
  const other = await connect(s.url);
  assert.equal((await run(other.client, "kept", kernel)).result, '"still here"');
  await other.client.close();
  await client.close().catch(() => {});
});

Deno.test("a stored kernel idle past --retention days is deleted with its files; a named one and a recent one stay", async () => {
  await using s = await serve({ retention: 30 });
  const client = await modernClient(s.url);
  const old = (await callTool(client, "execute", { code: "const a = 1" })).out.kernel as string;
  const folder = (await s.host.scratchDir(old))!;
  await Deno.writeTextFile(`${folder}/data.csv`, "x\n1\n");
  const named = await s.host.openNamedKernel("notes");
  await s.host.execute(named, "const n = 1");
  assert.equal(await s.host.stopKernel(old), true);
  assert.equal(await s.host.stopKernel(named), true);
  s.clock.now += 30 * DAY + 1;
  const recent = (await callTool(client, "execute", { code: "const b = 2" })).out.kernel as string;
  assert.equal(await s.host.stopKernel(recent), true);

  assert.deepEqual(await s.host.sweep(), { sessionsEnded: 0, kernelsDeleted: 1 });
  assert.equal(await s.host.hasKernel(old), false);
  await assert.rejects(Deno.stat(folder), Deno.errors.NotFound);
  assert.equal(await s.host.hasKernel(named), true);
  assert.equal(await s.host.hasKernel(recent), true);
  const gone = await callTool(client, "execute", { code: "a", kernel: old });
  assert.equal(gone.isError, true);
  assert.match(gone.text, new RegExp(old));
  await client.close();
});

Deno.test("open sessions plus sessionless kernels are capped by --max-sessions, with a clear answer", async () => {
  await using s = await serve({ maxSessions: 2 });
  const first = await connect(s.url);
  const modern = await modernClient(s.url);
  assert.equal((await callTool(modern, "execute", { code: "1" })).isError, false);
  const refused = await fetch(s.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify(initializeRequest()),
  });
  assert.equal(refused.status, 503);
  assert.match((await refused.json()).error.message, /Too many open sessions: .* at most 2/);
  const noKernel = await callTool(modern, "execute", { code: "2" });
  assert.equal(noKernel.isError, true);
  assert.match(noKernel.text, /Too many open sessions/);
  await first.transport.terminateSession();
  await first.client.close();
  assert.equal((await callTool(modern, "execute", { code: "3" })).isError, false, "room again");
  await modern.close();
});

/** A 2025-11-25 session by hand, without the GET stream an SDK client keeps open. */
async function rawSession(url: URL) {
  const headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  };
  const init = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify(initializeRequest()),
  });
  const id = init.headers.get("mcp-session-id")!;
  await init.body?.cancel();
  const post = async (message: unknown) => {
    const r = await fetch(url, {
      method: "POST",
      headers: { ...headers, "mcp-session-id": id },
      body: JSON.stringify(message),
    });
    return r.status === 202 ? (await r.body?.cancel(), undefined) : await r.json();
  };
  await post({ jsonrpc: "2.0", method: "notifications/initialized" });
  return {
    id,
    async execute(code: string): Promise<string | undefined> {
      const reply = await post({
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name: "execute", arguments: { code } },
      });
      return reply.result.structuredContent.result;
    },
  };
}

Deno.test("beyond the live-session cap, the least recently used idle session is closed in memory and resumed on its next request", async () => {
  await using s = await serve({}, { maxLiveSessions: 2 });
  const sessions = [];
  for (let i = 0; i < 3; i++) {
    const session = await rawSession(s.url);
    await session.execute(`const mine = ${i}`);
    sessions.push(session);
  }
  const before = (await s.host.registry.getSession(sessions[0]!.id))!.lastInitializedAt;
  s.clock.now += 1000;
  for (const [i, session] of sessions.entries()) {
    assert.equal(await session.execute("mine"), `${i}`);
  }
  const after = (await s.host.registry.getSession(sessions[0]!.id))!.lastInitializedAt;
  assert.ok(after > before, "the first session was resumed from the registry");
});
