import assert from "node:assert/strict";
import { initializeRequest } from "../../testing/host_process.ts";
import { isRunning, sandboxesOf, waitFor } from "../_processes.ts";
import { connectStdio, converse, spawnHost, type StdioSession } from "../_stdio.ts";

/** A session on `serve --stdio` with a temporary data folder, removed when disposed. */
async function connect(): Promise<StdioSession> {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-stdio-" });
  const session = await connectStdio(["--data-dir", dataDir]);
  return {
    ...session,
    async [Symbol.asyncDispose]() {
      await session[Symbol.asyncDispose]();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

Deno.test("over stdio, execute keeps state between calls and reports errors as results", async () => {
  await using s = await connect();
  const { tools } = await s.client.listTools();
  assert.deepEqual(
    tools.map((t) => t.name).sort(),
    [
      "cell_status",
      "close_kernel",
      "complete",
      "create_kernel",
      "download_file",
      "execute",
      "inspect_variable",
      "kernel_info",
      "list_kernels",
      "list_variables",
      "reset_kernel",
      "upload_file",
    ],
  );
  const first = await s.client.callTool({
    name: "execute",
    arguments: { code: "const x: number = 41" },
  });
  assert.equal(first.isError, false);
  const second = await s.client.callTool({
    name: "execute",
    arguments: { code: "console.log('side'); x + 1" },
  });
  const out = second.structuredContent as Record<string, unknown>;
  assert.equal(out.status, "ok");
  assert.equal(out.result, "42");
  assert.equal(out.stdout, "side\n");
  assert.equal(out.execution_count, 2);
  assert.match((second.content as { text: string }[])[0]?.text ?? "", /Out\[2\]: 42/);

  const thrown = await s.client.callTool({
    name: "execute",
    arguments: { code: "throw new Error('no')" },
  });
  assert.equal(thrown.isError, true);
  assert.equal((thrown.structuredContent as { error: { message: string } }).error.message, "no");

  const bad = await s.client.callTool({ name: "execute", arguments: { code: 1 } });
  assert.equal(bad.isError, true);
  assert.match((bad.content as { text: string }[])[0]?.text ?? "", /code/);

  const timeout = await s.client.callTool({
    name: "execute",
    arguments: { code: "while (true) {}", timeout_ms: 200 },
  });
  assert.equal(timeout.isError, true);
  assert.equal((timeout.structuredContent as { status: string }).status, "timeout");
  assert.equal((timeout.structuredContent as { lost?: string }).lost, undefined);
  // The loop was interrupted inside the kernel: its variables are still there.
  const vars = await s.client.callTool({ name: "list_variables", arguments: {} });
  assert.deepEqual(
    (vars.structuredContent as { variables: { name: string }[] }).variables.map((v) => v.name),
    ["x"],
  );
  assert.deepEqual(s.errors, []);
});

Deno.test("over stdio, variables, inspection, completion and reset reach the same kernel", async () => {
  await using s = await connect();
  await s.client.callTool({
    name: "execute",
    arguments: {
      code: "const table = { alpha: 1, beta: [1, 2] }; class Pt { norm() { return 0 } }",
    },
  });
  const vars = await s.client.callTool({ name: "list_variables", arguments: {} });
  const names = (vars.structuredContent as { variables: { name: string }[] }).variables.map((v) =>
    v.name
  );
  assert.deepEqual(names.sort(), ["Pt", "table"]);
  const inspected = await s.client.callTool({
    name: "inspect_variable",
    arguments: { name: "Pt" },
  });
  assert.match((inspected.structuredContent as { source: string }).source, /norm\(\)/);
  const completed = await s.client.callTool({ name: "complete", arguments: { code: "table.al" } });
  assert.deepEqual(completed.structuredContent, {
    matches: ["alpha"],
    cursor_start: 6,
    cursor_end: 8,
  });
  const missing = await s.client.callTool({
    name: "inspect_variable",
    arguments: { name: "nothing" },
  });
  assert.equal(missing.isError, true);
  assert.match((missing.content as { text: string }[])[0]?.text ?? "", /No variable "nothing"/);
  await s.client.callTool({ name: "reset_kernel", arguments: {} });
  const after = await s.client.callTool({ name: "list_variables", arguments: {} });
  assert.deepEqual((after.structuredContent as { variables: unknown[] }).variables, []);
});

Deno.test("over stdio, create_kernel gives a second kernel addressed by id, and close_kernel ends it", async () => {
  await using s = await connect();
  const created = await s.client.callTool({ name: "create_kernel", arguments: {} });
  const kernel = (created.structuredContent as { kernel: string }).kernel;
  await s.client.callTool({
    name: "execute",
    arguments: { code: "const only = 'second'", kernel },
  });
  const here = await s.client.callTool({ name: "execute", arguments: { code: "only", kernel } });
  assert.equal((here.structuredContent as { result: string }).result, '"second"');
  const there = await s.client.callTool({ name: "execute", arguments: { code: "typeof only" } });
  assert.equal((there.structuredContent as { result: string }).result, '"undefined"');
  const list = await s.client.callTool({ name: "list_kernels", arguments: {} });
  assert.equal((list.structuredContent as { kernels: unknown[] }).kernels.length, 2);
  const refused = await s.client.callTool({ name: "close_kernel", arguments: { kernel: "nope" } });
  assert.equal(refused.isError, true);
  const closed = await s.client.callTool({ name: "close_kernel", arguments: { kernel } });
  assert.equal(closed.isError, undefined);
  const gone = await s.client.callTool({ name: "execute", arguments: { code: "1", kernel } });
  assert.equal(gone.isError, true);
});

Deno.test("over stdio, resources/list shows the files of this connection's kernels, the default one and those it created", async () => {
  await using s = await connect();
  await s.client.callTool({ name: "upload_file", arguments: { path: "a.txt", text: "A" } });
  const created = await s.client.callTool({ name: "create_kernel", arguments: {} });
  const kernel = (created.structuredContent as { kernel: string }).kernel;
  const upload = await s.client.callTool({
    name: "upload_file",
    arguments: { path: "b/c.txt", text: "BC", kernel },
  });
  const defaultKernel = (await s.execute("1")).kernel as string; // every result names its kernel
  assert.equal((upload.structuredContent as { size: number }).size, 2);
  const { resources } = await s.client.listResources();
  assert.deepEqual(
    resources.map((r) => r.uri).sort(),
    [
      `kernel://${defaultKernel}/files/a.txt`,
      `kernel://${kernel}/files/b/c.txt`,
    ].sort(),
  );
  const read = await s.client.readResource({ uri: `kernel://${kernel}/files/b/c.txt` });
  assert.equal((read.contents[0] as { text: string }).text, "BC");
  // An id this connection did not make names nothing here.
  await assert.rejects(
    s.client.readResource({ uri: `kernel://${"A".repeat(43)}/files/a.txt` }),
    /No kernel with id/,
  );
});

Deno.test("over stdio, a value's own text/markdown is the execute text; result stays text/plain", async () => {
  await using s = await connect();
  const shown = await s.client.callTool({
    name: "execute",
    arguments: {
      code: 'const report = { [Symbol.for("Jupyter.display")]: () => ({ "text/markdown": ' +
        '"**3 rows** loaded" }) }; report',
    },
  });
  assert.equal(shown.isError, false);
  assert.match(
    (shown.content as { text: string }[])[0]?.text ?? "",
    /\nOut\[1\]: \*\*3 rows\*\* loaded$/,
  );
  const out = shown.structuredContent as { result: string };
  assert.equal(out.result, "{ Symbol(Jupyter.display): [Function: [Jupyter.display]] }");
  assert.equal((await s.execute("_ === report")).result, "true");
});

const INITIALIZE = initializeRequest();

const EXECUTE = (id: number, code: string) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "execute", arguments: { code } },
});

Deno.test("the stdio server writes only JSON-RPC to stdout and exits when stdin closes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-stdio-" });
  const host = spawnHost(dataDir);
  const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };
  const talk = await converse(host, [
    INITIALIZE,
    initialized,
    EXECUTE(2, "console.log('to the cell, not stdout'); 1"),
  ], 2);
  let text = talk.text;
  await talk.writer.close();
  const status = await host.status;
  for (;;) {
    const { value, done } = await talk.reader.read();
    if (done) break;
    text += value;
  }
  const messages = text.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(messages.map((m) => m.id), [1, 2]);
  assert.ok(messages.every((m) => m.jsonrpc === "2.0"));
  assert.match(JSON.stringify(messages[1]), /to the cell, not stdout/);
  assert.equal(status.code, 0);
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("killing the host with SIGKILL leaves no sandbox process behind", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-stdio-" });
  const host = spawnHost(dataDir);
  try {
    // Kill only once a cell has run, so the sandbox is past its start-up.
    const talk = await converse(host, [
      INITIALIZE,
      { jsonrpc: "2.0", method: "notifications/initialized" },
      EXECUTE(2, "const alive = true; setInterval(() => {}, 1000); alive"),
    ], 2);
    assert.match(talk.text, /"status":"ok"/);
    // The kernel's sandbox and the spare started after it took the first one.
    await waitFor(() => sandboxesOf(host.pid).length === 2, 10_000);
    const sandboxes = sandboxesOf(host.pid);
    assert.equal(sandboxes.length, 2, `expected the kernel's and a spare, found ${sandboxes}`);
    host.kill("SIGKILL");
    await host.status;
    const gone = await waitFor(() => sandboxes.every((pid) => !isRunning(pid)), 10_000);
    for (const pid of sandboxes.filter(isRunning)) Deno.kill(pid, "SIGKILL");
    assert.ok(gone, `sandbox processes outlived the host: ${sandboxes}`);
    await talk.reader.cancel().catch(() => {});
    await talk.writer.close().catch(() => {});
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
