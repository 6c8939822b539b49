import assert from "node:assert/strict";
import { join } from "node:path";
import { startKernel } from "./_kernel.ts";

const SECRET = "s3cret-" + crypto.randomUUID();

/** A folder outside any scratch folder holding a secret in a text and a JSON file. */
async function secretFiles(): Promise<
  { dir: string; text: string; json: string } & AsyncDisposable
> {
  const dir = await Deno.makeTempDir({ prefix: "mkh-secret-" });
  const text = join(dir, "secret.txt");
  const json = join(dir, "secret.json");
  await Deno.writeTextFile(text, SECRET);
  await Deno.writeTextFile(json, JSON.stringify({ value: SECRET }));
  return { dir, text, json, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("a kernel cannot read a file outside its scratch folder by any route", async () => {
  await using secret = await secretFiles();
  await using t = await startKernel();
  const attempts = [
    `await Deno.readTextFile(${JSON.stringify(secret.text)})`,
    `Deno.readFileSync(${JSON.stringify(secret.json)})`,
    `await import(${JSON.stringify(secret.json)}, { with: { type: "json" } })`,
    `await import(${JSON.stringify(secret.text)})`,
    `await import("/etc/hostname")`,
    // Bypasses the kernel's import rewriting: the process's permission flags must refuse it.
    `await (0, eval)('import(${JSON.stringify(secret.json)}, { with: { type: "json" } })')`,
    `await (0, eval)('import("/etc/hostname")')`,
    `await (0, eval)('import("file://${secret.dir}/secret.json", { with: { type: "json" } })')`,
    `(await import("node:fs")).readFileSync(${JSON.stringify(secret.text)}, "utf8")`,
  ];
  const hostname = (await Deno.readTextFile("/etc/hostname").catch(() => "")).trim();
  for (const code of attempts) {
    const r = await t.kernel.execute(code);
    assert.equal(r.status, "error", `${code} should fail, got ${r.data?.["text/plain"]}`);
    const shown = JSON.stringify(r);
    assert.ok(!shown.includes(SECRET), `${code} leaked the secret: ${shown}`);
    if (hostname.length > 3) assert.ok(!shown.includes(hostname), `${code} leaked the hostname`);
    assert.match(
      r.error!.message,
      /read access|may import files only from its scratch folder/,
      code,
    );
  }
});

Deno.test("a kernel can read and write its scratch folder but write nowhere else", async () => {
  await using secret = await secretFiles();
  await using t = await startKernel();
  const inside = await t.kernel.execute(
    "await Deno.writeTextFile('notes.txt', 'mine'); await Deno.readTextFile('notes.txt')",
  );
  assert.equal(inside.data?.["text/plain"], '"mine"');
  assert.equal(await Deno.readTextFile(join(t.scratchDir, "notes.txt")), "mine");
  const outside = await t.kernel.execute(
    `await Deno.writeTextFile(${JSON.stringify(join(secret.dir, "planted.txt"))}, 'x')`,
  );
  assert.equal(outside.status, "error");
  assert.match(outside.error!.message, /write access/);
  await assert.rejects(Deno.stat(join(secret.dir, "planted.txt")), Deno.errors.NotFound);
});

Deno.test("a kernel cannot open a socket, even to loopback", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("reached"),
  );
  try {
    await using t = await startKernel();
    const port = server.addr.port;
    for (
      const code of [
        `await fetch("http://127.0.0.1:${port}/")`,
        `await Deno.connect({ hostname: "127.0.0.1", port: ${port} })`,
        `Deno.listen({ port: 0 })`,
      ]
    ) {
      const r = await t.kernel.execute(code);
      assert.equal(r.status, "error", code);
      assert.match(r.error!.message, /net access/, code);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("a kernel sees none of the host's environment variables", async () => {
  Deno.env.set("MKH_TEST_SECRET", SECRET);
  try {
    await using t = await startKernel();
    const r = await t.kernel.execute("JSON.stringify(Deno.env.toObject())");
    assert.equal(r.status, "ok");
    assert.ok(!r.data!["text/plain"].includes(SECRET));
    assert.ok(!r.data!["text/plain"].includes("MKH_TEST_SECRET"));
    // HOME is there, but an empty folder of its own (runtime_steering_test.ts).
    assert.ok(!/"USER"|"PWD"/.test(r.data!["text/plain"]), r.data?.["text/plain"]);
    const node = await t.kernel.execute(
      "(await import('node:process')).default.env.MKH_TEST_SECRET",
    );
    assert.equal(node.status, "ok");
    assert.equal(node.data?.["text/plain"], undefined);
  } finally {
    Deno.env.delete("MKH_TEST_SECRET");
  }
});

Deno.test("a kernel cannot run a process, load a library or learn host facts", async () => {
  await using secret = await secretFiles();
  await using t = await startKernel();
  const cases: [string, RegExp][] = [
    [`new Deno.Command("/bin/true").outputSync()`, /run access/],
    [`new Deno.Command("/bin/sh", { args: ["-c", "true"] }).spawn()`, /run access/],
    [`Deno.dlopen("libc.so.6", {})`, /ffi access/],
    [`Deno.hostname()`, /sys access/],
    [`(await import("node:os")).hostname()`, /sys access/],
    [`Deno.networkInterfaces()`, /sys access/],
  ];
  for (const [code, message] of cases) {
    const r = await t.kernel.execute(code);
    assert.equal(r.status, "error", `${code} should be refused, got ${r.data?.["text/plain"]}`);
    assert.match(r.error!.message, message, code);
  }
  // node:child_process reports a refusal only as a failed command: check that nothing ran.
  const planted = join(secret.dir, "planted-by-child");
  await t.kernel.execute(
    `const cp = await import("node:child_process");\n` +
      `try { cp.execSync("echo x > ${planted}") } catch {}\n` +
      `cp.spawnSync("/bin/sh", ["-c", "echo x > ${planted}"])`,
  );
  await assert.rejects(Deno.stat(planted), Deno.errors.NotFound);
});

Deno.test("the sys permission used to start the REPL is revoked before user code runs", async () => {
  await using t = await startKernel();
  const r = await t.kernel.execute(
    `[Deno.permissions.querySync({ name: "sys" }).state, Deno.permissions.requestSync({ name: "sys" }).state]`,
  );
  assert.equal(r.status, "ok");
  assert.doesNotMatch(r.data!["text/plain"], /granted/);
  // The REPL still works without it: redeclaration and top-level await.
  await t.kernel.execute("const a = 1");
  assert.equal(
    (await t.kernel.execute("const a = await Promise.resolve(2); a")).data?.["text/plain"],
    "2",
  );
});

for (
  const [label, bomb] of [
    ["arrays", "const hoard = []; while (true) hoard.push(new Array(1e5).fill(Math.random()))"],
    [
      "ArrayBuffers",
      "const hoard = []; while (true) hoard.push(new Uint8Array(16 * 2 ** 20).fill(1))",
    ],
  ] as const
) {
  Deno.test(`a memory bomb made of ${label} is killed; the host and other kernels keep their state`, async () => {
    await using bystander = await startKernel();
    await bystander.kernel.execute("const mine = 'still here'");
    await using t = await startKernel({ memoryLimitMb: 128 });
    const r = await t.kernel.execute(bomb, { timeoutMs: 60_000 });
    assert.equal(r.status, "killed");
    assert.equal(r.error?.name, "KernelMemoryError");
    assert.match(r.error!.message, /memory limit of 128 MB/);
    assert.equal((await t.kernel.execute("1 + 1")).data?.["text/plain"], "2");
    assert.equal((await bystander.kernel.execute("mine")).data?.["text/plain"], '"still here"');
  });
}

Deno.test("an infinite loop in one kernel does not delay another", async () => {
  await using a = await startKernel();
  await using b = await startKernel();
  await b.kernel.execute("let count = 41");
  const looping = a.kernel.execute("while (true) {}", { timeoutMs: 3000 });
  let loopDone = false;
  looping.then(() => loopDone = true);
  const r = await b.kernel.execute("++count");
  assert.equal(r.data?.["text/plain"], "42");
  assert.equal(loopDone, false, "kernel B answered only after A's loop ended");
  assert.equal((await looping).status, "timeout");
  assert.equal((await b.kernel.execute("count")).data?.["text/plain"], "42");
});

Deno.test("a cell cannot end or deafen its own kernel: close, exits and postMessage fail clearly", async () => {
  await using t = await startKernel({ cellTimeoutMs: 10_000 });
  await t.kernel.execute("const kept = 'still here'");
  const cases: [string, RegExp][] = [
    ["self.close()", /close\(\) would end the kernel; use reset_kernel/],
    ["close()", /close\(\) would end the kernel/],
    ["Deno.exit(3)", /Deno\.exit\(\) would end the kernel/],
    ["(await import('node:process')).default.exit(1)", /process\.exit\(\) would end the kernel/],
    ["postMessage({ id: 1, ok: true, value: 'forged' })", /postMessage\(\) is not available/],
    [
      "Object.defineProperty(globalThis, 'close', { value: () => 1 })",
      /Cannot redefine property: close/,
    ],
  ];
  for (const [code, message] of cases) {
    const r = await t.kernel.execute(code, { timeoutMs: 2000 });
    assert.equal(r.status, "error", `${code}: ${r.status}`);
    assert.match(r.error!.message, message, code);
  }
  const deaf = await t.kernel.execute("self.onmessage = null; self.onmessage", { timeoutMs: 2000 });
  assert.equal(deaf.status, "ok");
  const after = await t.kernel.execute("kept", { timeoutMs: 2000 });
  assert.equal(
    after.data?.["text/plain"],
    '"still here"',
    "the kernel answered and kept its state",
  );
});
