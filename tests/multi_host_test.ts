/**
 * Several hosts over one PostgreSQL registry, with real sandboxes: a kernel is used through any
 * host with its state (handed over through the registry), a host killed with `kill -9` has its
 * kernels taken over after its lease expires, and a stale holder's late save is refused. Hosts
 * are `Host` objects in this process (each with its own connection pool and data folder), and
 * one real host process for `kill -9`.
 */
import assert from "node:assert/strict";
import { type Caller, sessionlessCaller } from "../src/host.ts";
import { NameInUseError } from "../src/name_lock.ts";
import { writeScratchFile } from "../src/scratch_files.ts";
import { openPostgresRegistry } from "../src/registry/postgres/postgres_registry.ts";
import { ROOT, startHostProcess } from "../testing/host_process.ts";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { openHost } from "./_host.ts";
import { serveHttp } from "./_http.ts";
import { callTool, modernClient } from "./_modern.ts";
import { postgresTest } from "./registry/_postgres.ts";

/** A host of the cluster on the registry at `url`. */
async function clusterHost(url: string, options: { tickMs?: number; leaseTtl?: number } = {}) {
  return await openHost({
    registry: await openPostgresRegistry(url),
    spareKernels: 0,
    leaseTtl: options.leaseTtl ?? 15,
    tickMs: options.tickMs ?? 100,
  });
}

const text = (r: { data?: Record<string, unknown> }) => r.data?.["text/plain"];

postgresTest("several hosts on one PostgreSQL registry", async (t, server) => {
  await t.step(
    "a kernel created through one host is used through another with its state",
    async () => {
      const url = await server.createDatabase("handover");
      await using a = await clusterHost(url);
      await using b = await clusterHost(url);
      const caller: Caller = sessionlessCaller();
      const id = await a.host.createKernelFor(caller);
      await a.host.execute(
        id,
        "class Point { constructor(x) { this.x = x } }; let p = new Point(41)",
      );
      assert.equal(a.host.isLive(id), true);

      // B asks A to hand the kernel over; A saves, stops and releases it at its next renewal.
      const onB = await b.host.execute(id, "p.x + 1");
      assert.equal(onB.status, "ok", JSON.stringify(onB.error));
      assert.equal(text(onB), "42");
      assert.ok(onB.restoredFrom, "restored from A's snapshot");
      assert.equal(a.host.isLive(id), false);
      assert.equal(b.host.isLive(id), true);
      const lease = await b.host.registry.getLease(id);
      assert.equal(lease?.holder, b.host.identity?.holder);

      // And back: the instance keeps its class on each move.
      const back = await a.host.execute(id, "p instanceof Point && p.x");
      assert.equal(text(back), "41");
      assert.equal(b.host.isLive(id), false);
    },
  );

  await t.step("scratch files move with their kernel, modules imported from them too", async () => {
    const url = await server.createDatabase("files");
    await using a = await clusterHost(url);
    await using b = await clusterHost(url);
    const id = await a.host.createKernelFor(sessionlessCaller());
    const made = await a.host.execute(
      id,
      `Deno.mkdirSync("lib", { recursive: true });
       Deno.writeTextFileSync("lib/box.ts", "export class Box { constructor(v) { this.v = v } twice() { return this.v * 2 } }");
       Deno.writeFileSync("data.bin", new Uint8Array([0, 1, 2, 255]));`,
    );
    assert.equal(made.status, "ok", JSON.stringify(made.error));
    const imported = await a.host.execute(
      id,
      `import { Box } from "./lib/box.ts"; const box = new Box(21)`,
    );
    assert.equal(imported.status, "ok", JSON.stringify(imported.error));

    const onB = await b.host.execute(
      id,
      "box.twice() + ':' + Deno.readFileSync('data.bin').join(',')",
    );
    assert.equal(onB.status, "ok", JSON.stringify(onB.error));
    assert.equal(text(onB), '"42:0,1,2,255"');
    assert.equal(onB.lost, undefined, "nothing lost");
    const folder = (await b.host.scratchDir(id))!;
    assert.ok(folder.startsWith(b.dataDir), "in B's own data folder");
    assert.equal(
      await Deno.readTextFile(`${folder}/lib/box.ts`),
      "export class Box { constructor(v) { this.v = v } twice() { return this.v * 2 } }",
    );

    // A file uploaded through A while B runs the kernel brings it back to A and is kept; a file
    // deleted there does not come back from A's old folder.
    await b.host.execute(id, "Deno.removeSync('data.bin')");
    await a.host.useFiles(
      id,
      (dir) => writeScratchFile(dir, "up.txt", new TextEncoder().encode("uploaded")),
      {
        writes: true,
      },
    );
    assert.equal(a.host.isLive(id), true);
    // Written to the registry before the upload returned, not at A's next save (its policy
    // here saves after 1,000 requests or an hour).
    assert.ok(
      (await a.host.registry.listFiles(id)).some((f) => f.path === "up.txt"),
      "the upload is in the registry",
    );
    await b.host.execute(id, "0"); // and to B again, A saving the upload with its files
    const seen = await a.host.execute(
      id,
      "[Deno.readTextFileSync('up.txt'), (() => { try { Deno.statSync('data.bin'); return 'stale' } catch { return 'gone' } })()].join()",
    );
    assert.equal(text(seen), '"uploaded,gone"');
    // B lists the kernel's files as last saved, without taking it back.
    assert.deepEqual((await b.host.listFiles(id, 100)).map((f) => f.path), [
      "lib/box.ts",
      "up.txt",
    ]);
    assert.equal(a.host.isLive(id), true);
  });

  await t.step("a 2025-11-25 session started on one host goes on through another", async () => {
    const url = await server.createDatabase("sessions");
    const served = async () =>
      await serveHttp({ registry: await openPostgresRegistry(url), spareKernels: 0, leaseTtl: 15 });
    await using a = await served();
    await using b = await served();
    const transport = new StreamableHTTPClientTransport(a.url);
    const client = new Client({ name: "multi-host", version: "1" });
    await client.connect(transport);
    await client.callTool({ name: "execute", arguments: { code: "const kept = 'on A'" } });
    // The balancer now sends the session to B: the same id, no new initialize.
    const reply = await fetch(b.url, {
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
        params: { name: "execute", arguments: { code: "kept" } },
      }),
    });
    assert.equal(reply.status, 200);
    assert.equal((await reply.json()).result.structuredContent.result, '"on A"');
    await client.close();
  });

  await t.step("a --kernel NAME is held through the registry, not a file lock", async () => {
    const url = await server.createDatabase("names");
    const a = await clusterHost(url);
    await using b = await clusterHost(url);
    const id = await a.host.openNamedKernel("work");
    await a.host.execute(id, "let kept = 'from A'");
    await assert.rejects(b.host.openNamedKernel("work"), NameInUseError);
    // Both hosts share the machine but not the data folder: no lock file was used.
    assert.equal(
      await Array.fromAsync(Deno.readDir(a.dataDir)).then((e) => e.some((x) => x.name === "locks")),
      false,
    );
    await a[Symbol.asyncDispose]();
    const again = await b.host.openNamedKernel("work");
    assert.equal(again, id);
    assert.equal(text(await b.host.execute(id, "kept")), '"from A"');
  });

  await t.step("a stale holder's late save is refused; the newer state stays", async () => {
    const url = await server.createDatabase("stale");
    // A renews nothing (no policy tick): its lease lapses as a paused host's would.
    await using a = await clusterHost(url, { tickMs: 0, leaseTtl: 3 });
    await using b = await clusterHost(url, { leaseTtl: 3 });
    const id = await a.host.createKernelFor(sessionlessCaller());
    await a.host.execute(id, "let v = 'from A'");
    await new Promise((resolve) => setTimeout(resolve, 3_500));

    const taken = await b.host.execute(id, "let v = 'from B'; v");
    assert.equal(text(taken), '"from B"');
    assert.match(taken.lost ?? "", /stopped renewing its lease \(it died or stalled\)/);
    assert.match(taken.lost ?? "", /cell 1 ran before any save and was lost.*: v/);
    assert.equal(await b.host.save(id), true);

    assert.equal(await a.host.save(id), false, "A's late save");
    assert.equal(a.host.isLive(id), false, "A stopped its copy without saving");
    const versions = await b.host.registry.listSnapshots(id);
    assert.equal(versions.length, 1, "only B's snapshot");
    const body = new TextDecoder().decode(
      (await b.host.registry.loadSnapshot(id, versions[0]!.version))!.body,
    );
    assert.match(body, /from B/);
    assert.doesNotMatch(body, /from A/);
  });

  await t.step("a host killed with kill -9: its kernel continues on another host", async () => {
    const url = await server.createDatabase("killed");
    const dataDir = await Deno.makeTempDir({ prefix: "mkh-killed-" });
    const killed = await startHostProcess([
      "--registry",
      url,
      "--data-dir",
      dataDir,
      "--lease-ttl",
      "3",
      "--save-every",
      "1",
      "--spare-kernels",
      "0",
    ]);
    try {
      const client = await modernClient(new URL(killed.url));
      const first = await callTool(client, "execute", {
        code: "const rows = [1, 2, 3]; rows.length",
      });
      const id = String(first.out.kernel);
      await using b = await clusterHost(url, { leaseTtl: 3 });
      // Saved after each request (--save-every 1): wait for the first snapshot to land.
      while ((await b.host.registry.listSnapshots(id)).length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await callTool(client, "execute", { kernel: id, code: "let late = 1" });
      // An upload's reply says it is written: the host that takes the kernel over has it.
      await callTool(client, "upload_file", { kernel: id, path: "up.txt", text: "uploaded" });
      await client.close();
      killed.process.kill("SIGKILL");
      await killed.process.status;

      const result = await b.host.execute(id, "rows.reduce((a, b) => a + b, 0)");
      assert.equal(result.status, "ok", JSON.stringify(result.error));
      assert.equal(text(result), "6");
      assert.ok(result.restoredFrom);
      assert.match(result.lost ?? "", /stopped renewing its lease/);
      // Files are as that host last saved them, and the loss says so.
      assert.match(result.lost ?? "", /its folder's files as that host last saved them/);
      const up = await b.host.execute(id, 'await Deno.readTextFile("up.txt")');
      assert.equal(text(up), '"uploaded"', JSON.stringify(up.error));
    } finally {
      try {
        killed.process.kill("SIGKILL");
      } catch { /* already dead */ }
      await killed.process.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  });

  await t.step("a host paused with SIGSTOP past its lease cannot write when resumed", async () => {
    const url = await server.createDatabase("paused");
    const dataDir = await Deno.makeTempDir({ prefix: "mkh-paused-" });
    const paused = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "main.ts",
        "--port",
        "0",
        "--registry",
        url,
        "--data-dir",
        dataDir,
        "--lease-ttl",
        "3",
        "--save-interval",
        "1",
        "--spare-kernels",
        "0",
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const drained = (async () => {
      for await (const chunk of paused.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
    })();
    const seen = async (pattern: RegExp) => {
      for (let i = 0; i < 600 && !pattern.test(stderr); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return pattern.test(stderr);
    };
    try {
      assert.ok(await seen(/"listening"/), stderr);
      const endpoint = JSON.parse(stderr.split("\n").find((l) => l.includes('"listening"'))!).url;
      const client = await modernClient(new URL(endpoint));
      const first = await callTool(client, "execute", { code: "let n = 'A'" });
      const id = String(first.out.kernel);
      await client.close();
      // Paused with an unsaved change (saved 1 s after it), past its 3 s lease.
      paused.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, 4_000));

      await using b = await clusterHost(url, { leaseTtl: 3 });
      const taken = await b.host.execute(id, "n = 'B'");
      assert.equal(taken.status, "ok", JSON.stringify(taken.error));
      assert.equal(await b.host.save(id), true);
      const ours = (await b.host.registry.listSnapshots(id))[0]!;

      paused.kill("SIGCONT");
      assert.ok(await seen(/lost the lease of a kernel/), `the resumed host logs it: ${stderr}`);
      const newest = (await b.host.registry.listSnapshots(id))[0]!;
      assert.equal(newest.version, ours.version, "nothing written after B's save");
      assert.equal(text(await b.host.execute(id, "n")), '"B"');
    } finally {
      paused.kill("SIGKILL");
      await paused.status;
      await drained.catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  });
});
