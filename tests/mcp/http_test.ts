import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { initializeRequest } from "../../testing/host_process.ts";
import { createHttpHandler, type HttpOptions } from "../../src/mcp/http.ts";
import { openHost } from "../_host.ts";
import { type ServedHost, serveHttp } from "../_http.ts";

const URL_ = "http://127.0.0.1:8000/mcp";
const INIT = initializeRequest();
const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

function request(body: unknown, headers: Record<string, string> = {}, method = "POST"): Request {
  return new Request(URL_, {
    method,
    headers: { ...HEADERS, ...headers },
    body: method === "POST" ? (typeof body === "string" ? body : JSON.stringify(body)) : undefined,
  });
}

async function handlerFor(options: Partial<HttpOptions> = {}) {
  const t = await openHost();
  const handler = createHttpHandler({ host: t.host, log: () => {}, ...options });
  return {
    handler,
    host: t.host,
    async [Symbol.asyncDispose]() {
      await handler.close();
      await t[Symbol.asyncDispose]();
    },
  };
}

Deno.test("initialize gets a 256-bit base64url session id; the handler needs no port", async () => {
  await using h = await handlerFor();
  const response = await h.handler.fetch(request(INIT));
  assert.equal(response.status, 200);
  const id = response.headers.get("mcp-session-id")!;
  assert.match(id, /^[A-Za-z0-9_-]{43}$/);
  assert.equal((await response.json()).result.serverInfo.name, "mcp-kernel-host");
  assert.ok(await h.host.sessions.get(id), "the session is recorded");
  const kernel = await h.host.sessions.defaultKernelOf(id);
  assert.notEqual(kernel, id, "its default kernel's id is derived, not the session's");
  assert.ok(await h.host.hasKernel(kernel), "and its default kernel is recorded");
  assert.equal(await h.host.hasKernel(id), false);
});

Deno.test("requests that break the rules get precise 4xx answers and change nothing", async () => {
  await using h = await handlerFor({
    authToken: "s3cret",
    allowedOrigins: ["https://app.example"],
  });
  const auth = { authorization: "Bearer s3cret" };
  const cases: [Request, number, RegExp][] = [
    [request(INIT), 401, /bearer token/],
    [request(INIT, { authorization: "Bearer wrong" }), 401, /bearer token/],
    [
      request(INIT, { ...auth, origin: "https://evil.example" }),
      403,
      /Origin "https:\/\/evil\.example"/,
    ],
    [request(INIT, { ...auth, host: "evil.example:8000" }), 403, /Host "evil\.example:8000"/],
    [
      request({ jsonrpc: "2.0", id: 2, method: "tools/list" }, auth),
      400,
      /Mcp-Session-Id header is required/,
    ],
    [
      request({ jsonrpc: "2.0", id: 2, method: "tools/list" }, {
        ...auth,
        "mcp-session-id": "invented",
      }),
      404,
      /Session not found/,
    ],
    [request("{not json", auth), 400, /Parse error/],
    [request(INIT, { ...auth, "content-type": "text/plain" }), 415, /expected application\/json/],
    [request("x".repeat(4 * 1024 * 1024 + 1), auth), 413, /exceeds 4194304 bytes/],
    // A body longer than the length it declares is measured, not trusted.
    [
      request("x".repeat(4 * 1024 * 1024 + 1), { ...auth, "content-length": "10" }),
      413,
      /exceeds 4194304 bytes/,
    ],
    [request("x".repeat(20), { ...auth, "content-length": "5000000" }), 413, /exceeds/],
    [new Request("http://127.0.0.1:8000/other", { headers: auth }), 404, /endpoint is \/mcp/],
    [new Request(URL_, { method: "PUT", headers: auth }), 405, /PUT is not allowed/],
  ];
  for (const [req, status, message] of cases) {
    const response = await h.handler.fetch(req);
    assert.equal(response.status, status, `${req.method} ${JSON.stringify([...req.headers])}`);
    assert.match((await response.json()).error.message, message);
  }
  assert.deepEqual(await h.host.registry.listSessions(), [], "no session was created");
  const allowed = await h.handler.fetch(request(INIT, { ...auth, origin: "https://app.example" }));
  assert.equal(allowed.status, 200);
  const local = await h.handler.fetch(request(INIT, { ...auth, origin: "http://localhost:3000" }));
  assert.equal(local.status, 200);
  const text = JSON.stringify(INIT);
  const sized = await h.handler.fetch(
    request(INIT, { ...auth, "content-length": String(new TextEncoder().encode(text).length) }),
  );
  assert.equal(sized.status, 200, "a body of its declared length is read at once");
});

/** A real server on a free loopback port around a host on `dataDir`. */
function serve(dataDir?: string, port = 0): Promise<ServedHost> {
  return serveHttp(dataDir ? { dataDir } : {}, port);
}

async function client(
  url: URL,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(url);
  const c = new Client({ name: "http-test", version: "1.0.0" });
  await c.connect(transport);
  return { client: c, transport };
}

async function run(c: Client, code: string, kernel?: string) {
  const r = await c.callTool({ name: "execute", arguments: { code, ...(kernel && { kernel }) } });
  return {
    isError: r.isError as boolean | undefined,
    text: (r.content as { text: string }[])[0]?.text ?? "",
    out: r.structuredContent as Record<string, unknown>,
  };
}

Deno.test("over HTTP, two sessions get different ids and kernels that cannot see each other", async () => {
  await using s = await serve();
  const a = await client(s.url);
  const b = await client(s.url);
  assert.notEqual(a.transport.sessionId, b.transport.sessionId);
  await run(a.client, "const secret = 'A only'");
  const seen = await run(b.client, "typeof secret");
  assert.equal(seen.out.result, '"undefined"');
  const infoA = await a.client.callTool({ name: "kernel_info", arguments: {} });
  const kernelA = (infoA.structuredContent as { kernel: string }).kernel;
  assert.notEqual(kernelA, a.transport.sessionId, "a kernel id does not reveal the session id");
  const listB = await b.client.callTool({ name: "list_kernels", arguments: {} });
  const kernelsB = (listB.structuredContent as { kernels: { kernel: string }[] }).kernels;
  assert.equal(kernelsB.length, 1);
  assert.ok(
    ![kernelA, a.transport.sessionId].includes(kernelsB[0]!.kernel),
    "B's list shows none of A's ids",
  );
  await a.client.close();
  await b.client.close();
});

Deno.test("over HTTP, a variable set by execute is seen by list_variables, inspect_variable, complete and kernel_info", async () => {
  await using s = await serve();
  const { client: c } = await client(s.url);
  const r = await run(c, "const metrics = { accuracy: 0.9, loss: 0.1 }; metrics.accuracy");
  assert.equal(r.out.result, "0.9");
  const vars = await c.callTool({ name: "list_variables", arguments: {} });
  assert.deepEqual(
    (vars.structuredContent as { variables: { name: string }[] }).variables.map((v) => v.name),
    ["metrics"],
  );
  const detail = await c.callTool({ name: "inspect_variable", arguments: { name: "metrics" } });
  assert.deepEqual(
    (detail.structuredContent as { members: { name: string }[] }).members.map((m) => m.name),
    ["accuracy", "loss"],
  );
  const done = await c.callTool({ name: "complete", arguments: { code: "metrics.ac" } });
  assert.deepEqual((done.structuredContent as { matches: string[] }).matches, ["accuracy"]);
  const info = (await c.callTool({ name: "kernel_info", arguments: {} }))
    .structuredContent as Record<string, unknown>;
  assert.equal(info.live, true);
  assert.equal(info.execution_count, 1);
  assert.ok((info.memory_bytes as number) > 10_000_000, `memory ${info.memory_bytes}`);
  await c.close();
});

Deno.test("over HTTP, DELETE ends the session and deletes its kernel; the id then gets 404", async () => {
  await using s = await serve();
  const { client: c, transport } = await client(s.url);
  const kernel = (await run(c, "const x = 1")).out.kernel as string;
  const id = transport.sessionId!;
  // Holding the kernel id does not give the session: as a session id it is unknown.
  const asSession = await fetch(s.url, { method: "DELETE", headers: { "mcp-session-id": kernel } });
  assert.equal(asSession.status, 404);
  await asSession.body?.cancel();
  assert.equal(await s.host.hasKernel(kernel), true);
  await transport.terminateSession();
  assert.equal(await s.host.hasKernel(kernel), false);
  const after = await fetch(s.url, {
    method: "POST",
    headers: { ...HEADERS, "mcp-session-id": id },
    body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }),
  });
  assert.equal(after.status, 404);
  await after.body?.cancel();
  await c.close();
});

Deno.test("over HTTP, a client keeps its variables across a restart of the host", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-http-" });
  let port: number;
  let kernel: string;
  const { client: c, transport } = await (async () => {
    await using first = await serve(dataDir);
    port = first.port;
    const connected = await client(first.url);
    kernel = (await run(
      connected.client,
      "class Acc { total = 0; add(n) { this.total += n; return this } }\nconst acc = new Acc().add(40)",
    )).out.kernel as string;
    return connected;
  })();
  // The first host is gone: its shutdown saved the kernel. A new one listens on the same port.
  await using second = await serve(dataDir, port!);
  const r = await run(c, "acc.add(2).total");
  assert.equal(r.out.status, "ok", JSON.stringify(r.out.error));
  assert.equal(r.out.result, "42");
  assert.equal((r.out.restored_from as { version: number }).version, 1);
  assert.equal(r.out.kernel, kernel!);
  assert.ok(transport.sessionId, "the session goes on");
  assert.ok(second.host.isLive(kernel!), "the resumed session's kernel runs here");

  await c.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("over HTTP, a created kernel id works from another session; an invented id is refused", async () => {
  await using s = await serve();
  const a = await client(s.url);
  const b = await client(s.url);
  const created = await a.client.callTool({ name: "create_kernel", arguments: {} });
  const shared = (created.structuredContent as { kernel: string }).kernel;
  assert.match(shared, /^[A-Za-z0-9_-]{43}$/);
  await run(a.client, "const note = 'written by A'", shared);
  const fromB = await run(b.client, "note", shared);
  assert.equal(fromB.out.result, '"written by A"');
  assert.equal(fromB.out.kernel, shared);
  const listB = (await b.client.callTool({ name: "list_kernels", arguments: {} }))
    .structuredContent as {
      kernels: { kernel: string; owned: boolean }[];
    };
  assert.deepEqual(listB.kernels.find((k) => k.kernel === shared)?.owned, false);
  const invented = await run(b.client, "1", "A".repeat(43));
  assert.equal(invented.isError, true);
  assert.match(invented.text, /No kernel with id "A{43}"/);

  const closeByB = await b.client.callTool({ name: "close_kernel", arguments: { kernel: shared } });
  assert.equal(closeByB.isError, true);
  assert.match(
    (closeByB.content as { text: string }[])[0]?.text ?? "",
    /only the session that created it/,
  );
  const closeByA = await a.client.callTool({ name: "close_kernel", arguments: { kernel: shared } });
  assert.equal(closeByA.isError, undefined);
  assert.equal((await run(b.client, "1", shared)).isError, true);
  await a.client.close();
  await b.client.close();
});

Deno.test("a session's activity is written to the registry at most once a second", async () => {
  let now = 10_000;
  await using t = await openHost({ now: () => now });
  await t.host.sessions.open("s", {});
  await t.host.sessions.touch("s");
  now += 500;
  await t.host.sessions.touch("s");
  assert.equal((await t.host.registry.getSession("s"))?.lastActiveAt, 10_000);
  now += 600;
  await t.host.sessions.touch("s");
  assert.equal((await t.host.registry.getSession("s"))?.lastActiveAt, 11_100);
});
