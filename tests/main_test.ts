import assert from "node:assert/strict";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { join } from "node:path";
import { ROOT, startHostProcess } from "../testing/host_process.ts";
import { childrenOf, commandLine, isRunning, sandboxesOf, waitFor } from "./_processes.ts";

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
    const reply = await executeInSession(second.url, transport.sessionId!, "kept");
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
    const resumed = await executeInSession(second.url, transport.sessionId!, "finished");
    assert.equal((await resumed.json()).result.structuredContent.result, '"yes"');
    await after.close();
    second.process.kill("SIGTERM");
    await second.process.status;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a cell still running when --shutdown-grace ends is interrupted, told so, and its variables are saved", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-main-" });
  let log = "";
  try {
    // Saved after every request: the running cell is then the kernel's only unsaved change.
    const args = ["--data-dir", dataDir, "--save-every", "1", "--shutdown-grace", "1"];
    const first = await startHostProcess(args, { onLog: (text) => log += text });
    const transport = new StreamableHTTPClientTransport(new URL(first.url));
    const client = new Client({ name: "main-test", version: "1" });
    await client.connect(transport);
    await client.callTool({ name: "execute", arguments: { code: "const base = 1" } });
    const running = client.callTool({
      name: "execute",
      arguments: {
        code: "let progress = 0; const t0 = Date.now();\n" +
          "while (Date.now() - t0 < 60_000) progress++;\nconst result = 42; result",
        timeout_ms: 120_000,
      },
    });
    await new Promise((r) => setTimeout(r, 700));
    const signalled = performance.now();
    first.process.kill("SIGTERM");
    const reply = (await running).structuredContent as {
      status: string;
      error?: { message: string };
    };
    assert.equal(reply.status, "cancelled", JSON.stringify(reply));
    assert.match(reply.error!.message, /host shut down .* grace of 1 s: it was interrupted/);
    assert.equal((await first.process.status).code, 143);
    // Well before the cell's own end (60 s) or its timeout (120 s).
    assert.ok(performance.now() - signalled < 20_000, "the grace bounds the shutdown");
    assert.match(log, /"saved 1 kernel before exit"/);

    const second = await startHostProcess(args);
    const resumed = await executeInSession(
      second.url,
      transport.sessionId!,
      "[base, progress > 0, typeof t0]",
    );
    const after = (await resumed.json()).result.structuredContent;
    assert.equal(after.result, '[ 1, true, "number" ]', JSON.stringify(after));
    // `result` was never reached: it had no value, and nothing is said lost.
    assert.equal(after.lost, undefined, JSON.stringify(after));
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

/** Runs `main.ts` to its end with `args`, as `deno task serve` would but with `-A`. */
async function runMain(args: string[]): Promise<{ code: number; stderr: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
  }).output();
  return { code: o.code, stderr: new TextDecoder().decode(o.stderr) };
}

/**
 * Asserts that `stderr` ends with one JSON log line at error whose message matches `pattern`,
 * and says nothing else but info (what had started by then, e.g. the spare kernels).
 */
function assertOneErrorLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n").map((l) => JSON.parse(l) as Record<string, string>);
  const loud = lines.filter((l) => l.level !== "info");
  assert.equal(loud.length, 1, `one error line expected, got: ${stderr}`);
  assert.equal(lines.at(-1), loud[0], "the error is the last line");
  assert.equal(loud[0]!.level, "error");
  assert.match(loud[0]!.message ?? "", pattern);
}

/** A server started by a command as a user types it, its URL, and all it wrote on stderr. */
interface Started {
  process: Deno.ChildProcess;
  url: URL;
  /** Everything written on stderr, once every process holding the pipe has closed it. */
  stderr: Promise<string>;
}

async function startCommand(command: string, args: string[]): Promise<Started> {
  const process = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const listening = Promise.withResolvers<URL>();
  const stderr = (async () => {
    let text = "";
    for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const line = text.split("\n").find((l) => l.includes('"listening"'));
      if (line) listening.resolve(new URL(JSON.parse(line).url));
    }
    listening.reject(new Error(`the server exited before listening: ${text}`));
    return text;
  })();
  return { process, url: await listening.promise, stderr };
}

/** The processes below `pid`, children first. */
function descendantsOf(pid: number): number[] {
  const out = childrenOf(pid);
  for (const child of [...out]) out.push(...descendantsOf(child));
  return out;
}

async function connect(
  url: URL,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(url);
  const client = new Client({ name: "main-test", version: "1" });
  await client.connect(transport);
  return { client, transport };
}

/**
 * Starts the README's serve command (`npx -y deno@2.9.6 task serve`, in a session and process
 * group of its own, as a terminal would), makes its kernel dirty, calls `stop` and checks that
 * every process under npx exits, the port is free, the save is logged and the state comes back.
 */
async function stopsAndSaves(stop: (npx: Deno.ChildProcess) => void): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-npx-" });
  try {
    // setsid execs npx in place: its pid is npx's and names the new process group.
    const npx = await startCommand("setsid", [
      "npx",
      "-y",
      "deno@2.9.6",
      "task",
      "serve",
      "--port",
      "0",
      "--data-dir",
      dataDir,
    ]);
    const { client, transport } = await connect(npx.url);
    await client.callTool({ name: "execute", arguments: { code: "const kept = 'through npx'" } });
    const below = descendantsOf(npx.process.pid);
    const server = below.find((pid) => commandLine(pid).includes(" main.ts "));
    assert.ok(server, "the server process runs under npx");
    await waitFor(() => sandboxesOf(server).length === 2, 10_000);
    assert.equal(
      sandboxesOf(server).length,
      2,
      "the session's kernel and a spare run in sandboxes",
    );

    stop(npx.process);
    await npx.process.status;
    const gone = await waitFor(() => below.every((pid) => !isRunning(pid)), 20_000);
    for (const pid of below.filter(isRunning)) Deno.kill(pid, "SIGKILL");
    assert.ok(gone, "the server, deno task and the sandbox exited");
    await assert.rejects(fetch(npx.url), "nothing listens on the port any more");
    const stderr = await npx.stderr;
    assert.match(stderr, /"message":"saved 1 kernel before exit"/);
    assert.doesNotMatch(stderr, /could not save/);

    const again = await startHostProcess(["--data-dir", dataDir]);
    const reply = await executeInSession(again.url, transport.sessionId!, "kept");
    assert.equal((await reply.json()).result.structuredContent.result, '"through npx"');
    again.process.kill("SIGTERM");
    await again.process.status;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("SIGTERM to `npx -y deno@2.9.6 task serve` stops the server, its sandboxes and saves", async () => {
  await stopsAndSaves((npx) => npx.kill("SIGTERM"));
});

Deno.test("Ctrl-C (SIGINT to the whole process group) stops the serve command once, with its save", async () => {
  await stopsAndSaves((npx) => Deno.kill(-npx.pid, "SIGINT"));
});

Deno.test("under deno task serve's own permissions, kernel_info reports the sandbox's memory", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-memory-" });
  try {
    // `deno task serve` itself, so the permissions are exactly the task's, not -A.
    const served = await startCommand(Deno.execPath(), [
      "task",
      "serve",
      "--port",
      "0",
      "--data-dir",
      dataDir,
    ]);
    const { client } = await connect(served.url);
    await client.callTool({
      name: "execute",
      arguments: { code: "const xs = new Float64Array(1e6)" },
    });
    const info = (await client.callTool({ name: "kernel_info", arguments: {} }))
      .structuredContent as { memory_bytes: number | null };
    assert.equal(typeof info.memory_bytes, "number", `memory_bytes ${info.memory_bytes}`);
    const mb = info.memory_bytes! / 2 ** 20;
    assert.ok(mb > 10 && mb < 2048, `memory_bytes ${mb} MB`);
    await client.close();
    served.process.kill("SIGTERM");
    assert.equal((await served.process.status).code, 143);
    await served.stderr;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a second HTTP host on a data folder in use is refused; stdio and sessions share it", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-lock-" });
  try {
    const first = await startHostProcess(["--data-dir", dataDir]);
    const second = await runMain(["--port", "0", "--data-dir", dataDir]);
    assert.equal(second.code, 2);
    assertOneErrorLine(
      second.stderr,
      new RegExp(
        `^Cannot serve HTTP from --data-dir ${dataDir}: another mcp-kernel-host HTTP server ` +
          `\\(pid ${first.process.pid}\\) is serving it`,
      ),
    );
    // stdin is closed at once: a stdio server starts, serves nothing and exits cleanly.
    assert.equal((await runMain(["--stdio", "--data-dir", dataDir])).code, 0);
    const sessions = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "sessions", "--data-dir", dataDir],
      cwd: ROOT,
    }).output();
    assert.equal(sessions.code, 0, new TextDecoder().decode(sessions.stderr));
    first.process.kill("SIGTERM");
    await first.process.status;
    // Released with the process: the folder can be served again.
    const third = await startHostProcess(["--data-dir", dataDir]);
    third.process.kill("SIGTERM");
    await third.process.status;
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a port in use and an unusable --data-dir each end the start with one error line", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "mkh-start-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = listener.addr;
    const busy = await runMain(["--port", `${port}`, "--data-dir", join(dataDir, "served")]);
    assert.equal(busy.code, 2);
    assertOneErrorLine(
      busy.stderr,
      new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`),
    );

    const file = join(dataDir, "a-file");
    await Deno.writeTextFile(file, "");
    const underFile = join(file, "data");
    for (const mode of [[], ["--stdio"]]) {
      const bad = await runMain([...mode, "--port", "0", "--data-dir", underFile]);
      assert.equal(bad.code, 2);
      assertOneErrorLine(
        bad.stderr,
        new RegExp(`^Cannot use --data-dir ${underFile}: Not a directory`),
      );
    }
  } finally {
    listener.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

/** A raw `tools/call` of `execute` in an existing session, as a resuming client sends it. */
function executeInSession(url: string | URL, sessionId: string, code: string): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-session-id": sessionId,
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "execute", arguments: { code } },
    }),
  });
}
