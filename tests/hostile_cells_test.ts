/**
 * Hostile cells through MCP over HTTP: each gets a precise error or a bounded result, never a
 * host crash, a hang or a leak, and both its own kernel and a second, busy session keep their
 * state.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/index"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="npm:@modelcontextprotocol/sdk@1.32.2/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { emptyHome } from "../src/kernel/deno_env.ts";
import { createHttpHandler } from "../src/mcp/http.ts";
import { openHost } from "./_host.ts";

type Out = {
  status: string;
  lost?: string;
  result?: string;
  stdout: string;
  error?: { name: string; message: string };
};

async function execute(c: Client, code: string, timeout_ms?: number): Promise<Out> {
  const r = await c.callTool({
    name: "execute",
    arguments: { code, ...(timeout_ms && { timeout_ms }) },
  });
  return r.structuredContent as Out;
}

Deno.test("hostile cells get precise errors or bounded results; nothing else is harmed", async () => {
  await using t = await openHost({ memoryLimit: 192, cellTimeout: 20 });
  const handler = createHttpHandler({ host: t.host, log: () => {} });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler.fetch);
  const url = new URL(`http://127.0.0.1:${server.addr.port}/mcp`);
  const connect = async () => {
    const transport = new StreamableHTTPClientTransport(url);
    const client = new Client({ name: "hostile", version: "1" });
    await client.connect(transport);
    const info = await client.callTool({ name: "kernel_info", arguments: {} });
    return { client, id: (info.structuredContent as { kernel: string }).kernel };
  };
  const attacker = await connect();
  const bystander = await connect();
  const listener = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("reached"),
  );
  let stop = false;
  let busy: Promise<void> = Promise.resolve();
  try {
    await execute(attacker.client, "const mine = 'attacker state'");
    await t.host.save(attacker.id);
    await execute(bystander.client, "let counter = 0; const theirs = 'bystander state'");

    // The bystander keeps working during the whole attack.
    let increments = 0;
    busy = (async () => {
      while (!stop) {
        const r = await execute(bystander.client, "++counter");
        assert.equal(r.status, "ok", JSON.stringify(r.error));
        increments++;
        assert.equal(r.result, String(increments), "the bystander's counter stayed exact");
      }
    })();

    const registry = join(t.dataDir, "registry.db");
    const otherScratch = (await t.host.scratchDir(bystander.id))!;
    await Deno.mkdir(otherScratch, { recursive: true });
    await Deno.writeTextFile(join(otherScratch, "private.txt"), "bystander secret");
    const hostname = (await Deno.readTextFile("/etc/hostname").catch(() => "")).trim();
    const cases: { code: string; timeout?: number; expect: (r: Out) => void }[] = [
      {
        code: "const hoard = []; while (true) hoard.push(new Array(1e5).fill(1.5))",
        expect: killed,
      },
      {
        code: "const bufs = []; while (true) bufs.push(new Uint8Array(2 ** 24).fill(1))",
        expect: killed,
      },
      { code: "while (true) {}", timeout: 1000, expect: interrupted },
      {
        code: "function r(n) { return r(n + 1) } r(0)",
        expect: error(/Maximum call stack size exceeded/),
      },
      { code: "Promise.reject(new Error('nobody listens')); 'went on'", expect: ok('"went on"') },
      { code: "new Promise(() => {})", expect: ok("Promise { <pending> }") },
      {
        code: "await new Promise(() => {})",
        timeout: 1000,
        expect: interrupted,
      },
      { code: "self.close()", expect: error(/close\(\) would end the kernel/) },
      { code: "close()", expect: error(/close\(\) would end the kernel/) },
      { code: "Deno.exit(1)", expect: error(/Deno\.exit\(\) would end the kernel/) },
      { code: "Deno.readTextFileSync('/etc/passwd')", expect: error(/read access/) },
      {
        code: `Deno.readTextFileSync(${JSON.stringify(join(otherScratch, "private.txt"))})`,
        expect: error(/read access/),
      },
      { code: `Deno.readFileSync(${JSON.stringify(registry)})`, expect: error(/read access/) },
      {
        code: "Deno.writeTextFileSync('/tmp/planted-by-a-kernel', 'x')",
        expect: error(/write access/),
      },
      {
        code: `await fetch("http://127.0.0.1:${listener.addr.port}/")`,
        expect: error(/net access/),
      },
      // Not the host user's: an empty folder, so Deno reads no ~/.npmrc.
      { code: "Deno.env.get('HOME')", expect: ok(JSON.stringify(await emptyHome())) },
      { code: "new Deno.Command('/bin/sh').outputSync()", expect: error(/run access/) },
      { code: "Deno.dlopen('libc.so.6', {})", expect: error(/ffi access/) },
      { code: "Deno.hostname()", expect: error(/sys access/) },
      { code: "await import('/etc/hostname')", expect: error(/scratch folder/) },
      { code: "await (0, eval)('import(\"/etc/hostname\")')", expect: error(/read access/) },
      {
        code: `await import("http://127.0.0.1:${listener.addr.port}/x.js")`,
        expect: error(/import access/),
      },
      { code: "Object.prototype.polluted = 'yes'; ({}).polluted", expect: ok('"yes"') },
      {
        code:
          "for (let i = 0; i < 100; i++) Deno.stdout.writeSync(new TextEncoder().encode('y'.repeat(2 ** 20))); 'flooded'",
        expect: (r) => {
          assert.equal(r.status, "ok");
          // The kernel keeps 100 kB of it; the result's budget shows less, and says so.
          assert.ok(r.stdout.length < 25_000, `stdout ${r.stdout.length} characters`);
          assert.match(r.stdout, /\[truncated: [\d,]+ more characters of [\d,]+\]/);
        },
      },
    ];
    for (const c of cases) {
      const r = await execute(attacker.client, c.code, c.timeout);
      const shown = JSON.stringify(r);
      try {
        c.expect(r);
      } catch (e) {
        throw new Error(`${c.code}\n→ ${shown.slice(0, 400)}\n${(e as Error).message}`);
      }
      assert.ok(!shown.includes("bystander secret"), `${c.code} leaked another kernel's file`);
      if (hostname.length > 3) {
        assert.ok(!shown.includes(hostname), `${c.code} leaked the hostname`);
      }
      const own = await execute(attacker.client, "mine");
      assert.equal(
        own.result,
        '"attacker state"',
        `after ${c.code}, the attacker's kernel lost its state`,
      );
      const other = await execute(bystander.client, "[theirs, typeof ({}).polluted]");
      assert.equal(other.result, '[ "bystander state", "undefined" ]', `after ${c.code}`);
    }
    assert.equal(
      ({} as Record<string, unknown>).polluted,
      undefined,
      "pollution never reaches the host",
    );

    // A 10 MB cell is refused by the 4 MiB body limit with a precise error.
    await assert.rejects(
      execute(attacker.client, `const big = ${JSON.stringify("z".repeat(10 * 2 ** 20))}`),
      /Payload Too Large: the body exceeds 4194304 bytes; send a larger file as several upload_file calls with offset/,
    );
    stop = true;
    await busy;
    assert.ok(increments > 10, `the bystander ran ${increments} cells during the attack`);
    assert.equal((await execute(bystander.client, "counter")).result, String(increments));
  } finally {
    stop = true;
    // A failure above leaves the bystander's loop mid-call: its end must not hide that failure.
    await busy.catch(() => {});
    await attacker.client.close();
    await bystander.client.close();
    await listener.shutdown();
    await handler.close();
    await server.shutdown();
  }
});

/** Stopped inside the kernel, which kept its state: nothing lost. */
function interrupted(r: Out): void {
  assert.equal(r.status, "timeout");
  assert.equal(r.lost, undefined);
}

function killed(r: Out): void {
  assert.equal(r.status, "killed");
  assert.match(r.error!.message, /memory limit of 192 MB/);
}

function error(message: RegExp): (r: Out) => void {
  return (r) => {
    assert.equal(r.status, "error");
    assert.match(r.error!.message, message);
  };
}

function ok(result: string): (r: Out) => void {
  return (r) => {
    assert.equal(r.status, "ok", JSON.stringify(r.error));
    assert.equal(r.result, result);
  };
}
