/**
 * The 2026-07-28 revision over HTTP, beside the 2025-11-25 sessions of `http_test.ts`: no
 * session, kernels by handle, the SDK's header checks, our Host/Origin/token checks for both
 * eras, a closed stream as a cancel, and state back by handle after a restart. Driven by the v2
 * SDK's `Client` pinned to the revision, and by raw requests where the wire itself is tested.
 */
import assert from "node:assert/strict";
import { initializeRequest } from "../../testing/host_process.ts";
import { createHttpHandler } from "../../src/mcp/http.ts";
import { openHost } from "../_host.ts";
import { serveHttp } from "../_http.ts";
import { callTool, MODERN, modernClient, modernPost } from "../_modern.ts";

Deno.test("a 2026-07-28 server/discover is answered 200 with the server's info and capabilities", async () => {
  await using s = await serveHttp();
  const r = await modernPost(s.url, "server/discover");
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.ok(body.result.supportedVersions.includes(MODERN), JSON.stringify(body));
  assert.ok(body.result.capabilities.tools, "tools are a capability");
  assert.equal(body.result._meta["io.modelcontextprotocol/serverInfo"].name, "mcp-kernel-host");
  assert.match(body.result.instructions, /handle/);
});

Deno.test("a 2026-07-28 client keeps its state in a kernel named by handle: create_kernel, execute, complete, list_variables", async () => {
  await using s = await serveHttp();
  const client = await modernClient(s.url);
  const created = await callTool(client, "create_kernel");
  const kernel = created.out.kernel as string;
  assert.match(kernel, /^[A-Za-z0-9_-]{43}$/);
  assert.match(created.text, new RegExp(kernel));

  const first = await callTool(client, "execute", {
    code: "const rows = Array.from({ length: 1000 }, (_, i) => ({ i, v: i * 2 })); rows.length",
    kernel,
  });
  assert.equal(first.out.result, "1000", first.text);
  assert.equal(first.out.new_kernel, undefined, "a handle was given: no new kernel");
  const second = await callTool(client, "execute", {
    code: "rows.reduce((a, r) => a + r.v, 0)",
    kernel,
  });
  assert.equal(second.out.result, "999000");
  assert.equal(second.out.execution_count, 2);

  const completion = await callTool(client, "complete", { code: "ro", kernel });
  assert.ok((completion.out.matches as string[]).includes("rows"), completion.text);
  const variables = await callTool(client, "list_variables", { kernel });
  assert.deepEqual((variables.out.variables as { name: string }[]).map((v) => v.name), ["rows"]);
  await client.close();
});

Deno.test("over 2026-07-28 HTTP, execute without a handle creates a kernel and names its handle first; other tools explain how to get one", async () => {
  await using s = await serveHttp();
  const client = await modernClient(s.url);
  const r = await callTool(client, "execute", { code: "const x = 41; x + 1" });
  const kernel = r.out.kernel as string;
  assert.equal(r.out.new_kernel, true);
  assert.equal(r.out.result, "42");
  assert.ok(r.text.startsWith(`New kernel, handle ${kernel}`), r.text);
  assert.equal((await callTool(client, "execute", { code: "x", kernel })).out.result, "41");

  // Each handle-less execute is a new kernel: nothing ties two requests together.
  const other = await callTool(client, "execute", { code: "typeof x" });
  assert.notEqual(other.out.kernel, kernel);
  assert.equal(other.out.result, '"undefined"');

  for (const name of ["list_variables", "kernel_info", "reset_kernel"]) {
    const refused = await callTool(client, name);
    assert.equal(refused.isError, true, name);
    assert.match(refused.text, /pass `kernel` with the handle that execute or create_kernel/);
  }
  const unknown = await callTool(client, "execute", { code: "1", kernel: "no-such-handle" });
  assert.equal(unknown.isError, true);
  assert.match(unknown.text, /no-such-handle/);

  const listed = await callTool(client, "list_kernels");
  assert.deepEqual(listed.out.kernels, []);
  assert.match(listed.text, /Without a session there is nothing to list/);
  await client.close();
});

Deno.test("over 2026-07-28 HTTP, a kernel comes back by its handle alone after the host restarts", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-modern-" });
  let kernel: string;
  {
    await using first = await serveHttp({ dataDir });
    const client = await modernClient(first.url);
    const r = await callTool(client, "execute", {
      code: "class Acc { total = 0; add(n) { this.total += n; return this } }\n" +
        "const acc = new Acc().add(40)",
    });
    kernel = r.out.kernel as string;
    await client.close();
  }
  // The first host saved the kernel at shutdown; a new host and a new client hold only the handle.
  await using second = await serveHttp({ dataDir });
  const client = await modernClient(second.url);
  const r = await callTool(client, "execute", { code: "acc.add(2).total", kernel });
  assert.equal(r.out.result, "42", r.text);
  assert.equal((r.out.restored_from as { version: number }).version, 1);
  await client.close();
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("both eras are refused on a foreign Origin, a foreign Host and without the bearer token", async () => {
  await using t = await openHost();
  const handler = createHttpHandler({ host: t.host, log: () => {}, authToken: "s3cret" });
  await using _ = { [Symbol.asyncDispose]: () => handler.close() };
  const url = "http://127.0.0.1:8000/mcp";
  const modern = (headers: Record<string, string>) =>
    new Request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": MODERN,
        "mcp-method": "server/discover",
        ...headers,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "server/discover",
        params: {
          _meta: {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientInfo": { name: "t", version: "1" },
            "io.modelcontextprotocol/clientCapabilities": {},
          },
        },
      }),
    });
  const legacy = (headers: Record<string, string>) =>
    new Request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...headers,
      },
      body: JSON.stringify(initializeRequest()),
    });
  const auth = { authorization: "Bearer s3cret" };
  for (const [era, make] of [["2026-07-28", modern], ["2025-11-25", legacy]] as const) {
    const foreign = await handler.fetch(make({ ...auth, origin: "https://evil.example" }));
    assert.equal(foreign.status, 403, era);
    assert.match((await foreign.json()).error.message, /Origin "https:\/\/evil.example"/);
    const rebinding = await handler.fetch(make({ ...auth, host: "evil.example:8000" }));
    assert.equal(rebinding.status, 403, era);
    await rebinding.body?.cancel();
    const anonymous = await handler.fetch(make({}));
    assert.equal(anonymous.status, 401, era);
    await anonymous.body?.cancel();
    const allowed = await handler.fetch(make({ ...auth, origin: "http://localhost:3000" }));
    assert.equal(allowed.status, 200, `${era}: ${await allowed.text()}`);
  }
  assert.equal((await t.host.registry.listSessions()).length, 1, "only the allowed initialize");
});

Deno.test("a Mcp-Param-Kernel header that disagrees with the kernel argument gets 400 and -32020 (the SDK's check)", async () => {
  const warned: string[] = [];
  await using s = await serveHttp({}, 0, (message) => warned.push(message));
  const made = await (await modernPost(s.url, "tools/call", {
    name: "execute",
    arguments: { code: "let keep = 1" },
  })).json();
  const kernel = made.result.structuredContent.kernel as string;
  const call = (headers: Record<string, string>) =>
    modernPost(s.url, "tools/call", {
      name: "execute",
      arguments: { code: "keep = 2", kernel },
    }, { headers });

  const mismatch = await call({ "mcp-param-kernel": "another-kernel" });
  assert.equal(mismatch.status, 400);
  const body = await mismatch.json();
  assert.equal(body.error.code, -32020);
  assert.match(body.error.message, /Mcp-Param-Kernel/);
  const missing = await call({});
  assert.equal(missing.status, 400);
  assert.equal((await missing.json()).error.code, -32020);

  const agreed = await call({ "mcp-param-kernel": kernel });
  assert.equal(agreed.status, 200);
  await agreed.body?.cancel();
  const after = await (await modernPost(s.url, "tools/call", {
    name: "execute",
    arguments: { code: "keep", kernel },
  }, { headers: { "mcp-param-kernel": kernel } })).json();
  assert.equal(after.result.structuredContent.result, "2", "only the agreeing call ran");
  // A refused request is the client's to fix, answered to it: the host warns of none.
  assert.deepEqual(warned, []);
});

Deno.test("over 2026-07-28 HTTP, closing the response stream cancels the cell; the kernel keeps its variables", async () => {
  await using s = await serveHttp();
  const client = await modernClient(s.url);
  const kernel = (await callTool(client, "execute", { code: "let b = 1; const f = (n) => n * 2" }))
    .out.kernel as string;
  const abort = new AbortController();
  const pending = modernPost(s.url, "tools/call", {
    name: "execute",
    arguments: { code: "b = 5; await new Promise(() => {})", kernel },
  }, { headers: { "mcp-param-kernel": kernel }, signal: abort.signal }).catch((e) => e);
  await new Promise((r) => setTimeout(r, 400));
  abort.abort();
  const closedAt = performance.now();
  assert.equal(((await pending) as Error).name, "AbortError");

  const after = await callTool(client, "execute", { code: "[b, f(b)]", kernel });
  assert.ok(performance.now() - closedAt < 2000, "the next call answered within 2 s of the close");
  assert.equal(after.out.result, "[ 5, 10 ]", after.text);
  assert.equal(after.out.lost, undefined);
  await client.close();
});

Deno.test("over 2026-07-28 HTTP, a long cell streams progress with its newest output in its own response", async () => {
  await using s = await serveHttp();
  const client = await modernClient(s.url);
  const messages: string[] = [];
  const r = await client.callTool({
    name: "execute",
    arguments: {
      code: "for (let i = 1; i <= 3; i++) { console.log(`step ${i}`); " +
        "await new Promise((r) => setTimeout(r, 600)); }",
    },
  }, { onprogress: (p) => messages.push(p.message ?? "") });
  assert.equal((r.structuredContent as { status: string }).status, "ok");
  assert.ok(messages.length >= 1, "at least one progress notification");
  assert.match(messages.at(-1)!, /running for \d+\.\d s; newest output: step \d/);
  await client.close();
});
