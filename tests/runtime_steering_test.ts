/**
 * Cells cannot steer their sandbox's own Deno (issue 13): no proxy, certificate or registry a
 * cell sets reaches a download, because sandboxes never download; the host fetches npm packages
 * first, under its own environment. Real sandboxes throughout.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DENIED_ENV, emptyHome } from "../src/kernel/deno_env.ts";
import { KernelHandle } from "../src/kernel/kernel_handle.ts";
import { sandboxFlags } from "../src/kernel/sandbox_process.ts";
import { startKernel } from "./kernel/_kernel.ts";

/** Deno's own stand-in for "a package nobody has cached": resolved only through a download. */
const UNCACHED = "npm:mkh-no-such-package-7f3a@1.0.0";
/** A package the project itself uses, so it is in the npm cache of every machine that ran it. */
const CACHED = "npm:superjson@2.2.6";

/** A TCP listener on loopback that counts the connections it accepts (and closes them). */
function countingListener(): { port: number; count: () => number } & Disposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  (async () => {
    for await (const conn of listener) {
      connections++;
      conn.close();
    }
  })().catch(() => {});
  return {
    port: listener.addr.port,
    count: () => connections,
    [Symbol.dispose]: () => listener.close(),
  };
}

const PROXY_NAMES = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy"];

/**
 * A cell that tries to point Deno at `port` every way it can (each denied variable, checking
 * that Deno 2.9.6 honours each name), and returns the error names.
 */
function steeringCell(port: number): string {
  const url = `http://leaked:data@127.0.0.1:${port}`;
  return `const tried = [];
    for (const name of ${JSON.stringify(DENIED_ENV)}) {
      try { Deno.env.set(name, ${JSON.stringify(url)}); tried.push("set " + name); }
      catch (e) { tried.push(e.name); }
    }
    const nodeProcess = (await import("node:process")).default;
    try { nodeProcess.env.HTTPS_PROXY = ${JSON.stringify(url)}; tried.push("set process.env"); }
    catch (e) { tried.push(e.name); }
    try { Deno.env.delete("DENO_NO_UPDATE_CHECK"); tried.push("deleted"); }
    catch (e) { tried.push(e.name); }
    [...new Set(tried)]`;
}

Deno.test("a sandbox's Deno connects nowhere for an npm import, even with a proxy in its environment", async () => {
  using listener = countingListener();
  const dir = await Deno.makeTempDir({ prefix: "mkh-steer-" });
  try {
    const script = join(dir, "import.ts");
    await Deno.writeTextFile(
      script,
      // Computed, as the kernel's loader imports: Deno resolves it when it runs, not before.
      `const specifier = ${JSON.stringify(UNCACHED)} + "";\n` +
        `await import(specifier).then(() => console.log("loaded"), ` +
        `(e) => console.log(e.message.split("\\n").at(-1)));`,
    );
    const run = async (flags: string[]) => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...flags, script],
        clearEnv: true,
        // An empty cache of its own, and the proxy a cell would have set.
        env: {
          DENO_DIR: join(dir, "cache"),
          HOME: dir,
          DENO_NO_UPDATE_CHECK: "1",
          NO_COLOR: "1",
          HTTPS_PROXY: `http://leaked:data@127.0.0.1:${listener.port}`,
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      return new TextDecoder().decode(output.stdout).trim();
    };
    const flags = sandboxFlags({ read: [dir], write: [dir], memoryLimitMb: 128 });
    assert.match(await run(flags), /not found in cache.*--cached-only/);
    assert.equal(listener.count(), 0, "the sandbox's Deno never reached the proxy");
    // The same process without --cached-only goes through the proxy: the listener can see it.
    await run(flags.filter((f) => f !== "--cached-only"));
    assert.ok(listener.count() > 0, "control: without --cached-only the proxy is reached");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a cell cannot set proxy, certificate or registry variables, and its npm imports still work", async () => {
  using listener = countingListener();
  await using t = await startKernel();
  const tried = await t.kernel.execute(steeringCell(listener.port));
  assert.equal(tried.status, "ok", JSON.stringify(tried.error));
  assert.equal(tried.data?.["text/plain"], '[ "NotCapable" ]');
  // Other variables stay usable, and enumerating the environment works (debug, supports-color).
  const plain = await t.kernel.execute(
    'Deno.env.set("MY_SETTING", "1"); Object.keys(Deno.env.toObject()).includes("MY_SETTING")',
  );
  assert.equal(plain.data?.["text/plain"], "true", JSON.stringify(plain.error));

  // Read, they are unset (they are: the sandbox's environment has none of them), so a package
  // that looks for a proxy as it loads still loads.
  const read = await t.kernel.execute(
    `const env = (await import("node:process")).default.env;
     [Deno.env.get("HTTPS_PROXY"), env.https_proxy, "DENO_CERT" in env, Deno.env.has("ALL_PROXY")]`,
  );
  assert.equal(read.data?.["text/plain"], "[ undefined, undefined, false, false ]");

  const imported = await t.kernel.execute(
    `import superjson from "${CACHED}"; superjson.stringify({ n: 1n })`,
  );
  assert.equal(imported.status, "ok", JSON.stringify(imported.error));
  assert.match(imported.data!["text/plain"], /bigint/);
  const debug = await t.kernel.execute(
    'import createDebug from "npm:debug@4.4.3"; typeof createDebug',
  );
  assert.equal(debug.data?.["text/plain"], '"function"', JSON.stringify(debug.error));
  const uncached = await t.kernel.execute(`await import(${JSON.stringify(UNCACHED)} + "")`);
  assert.equal(uncached.status, "error");
  assert.equal(listener.count(), 0, "nothing reached the cell's proxy");
});

Deno.test("what one kernel does to its environment cannot reach another kernel or the host", async () => {
  using listener = countingListener();
  await using a = await startKernel();
  await using b = await startKernel();
  await a.kernel.execute(steeringCell(listener.port));
  await a.kernel.execute('Deno.env.set("FROM_A", "1")');
  const seen = await b.kernel.execute(
    `const names = Object.keys(Deno.env.toObject());
     [Deno.env.get("FROM_A") ?? "unset", ${
      JSON.stringify(["DENO_CERT", ...PROXY_NAMES])
    }.filter((n) => names.includes(n))]`,
  );
  assert.equal(seen.data?.["text/plain"], '[ "unset", [] ]', JSON.stringify(seen.error));
  const imported = await b.kernel.execute(`import superjson from "${CACHED}"; typeof superjson`);
  assert.equal(imported.data?.["text/plain"], '"function"', JSON.stringify(imported.error));
  assert.equal(Deno.env.get("DENO_CERT"), undefined, "the host's own environment is untouched");
  assert.equal(listener.count(), 0);
});

Deno.test("a kernel's HOME is an empty folder of its own, not the host user's (no ~/.npmrc)", async () => {
  await using t = await startKernel();
  const r = await t.kernel.execute('Deno.env.get("HOME")');
  assert.equal(r.status, "ok", JSON.stringify(r.error));
  const home = JSON.parse(r.data!["text/plain"]);
  assert.equal(home, await emptyHome());
  assert.notEqual(home, Deno.env.get("HOME"));
  assert.deepEqual(await Array.fromAsync(Deno.readDir(home)), [], "it stays empty");
  const write = await t.kernel.execute(
    `Deno.writeTextFileSync(${JSON.stringify(home)} + "/.npmrc", "x")`,
  );
  assert.equal(write.status, "error", "a kernel cannot plant an .npmrc there");
});

Deno.test("a computed npm: import gets the rule, and a literal import of it works afterwards", async () => {
  await using t = await startKernel();
  const computed = await t.kernel.execute('const name = "ms@2.1.3"; await import("npm:" + name)');
  assert.equal(computed.status, "error");
  assert.equal(computed.error?.name, "TypeError");
  assert.equal(
    computed.error?.message,
    'Cannot import "npm:ms@2.1.3": npm: specifiers must be literal in the cell, so the host can ' +
      'fetch the package before the cell runs; write import("npm:name@version") or import … ' +
      'from "npm:name@version" with the name in the cell\'s text',
  );
  const literal = await t.kernel.execute('import ms from "npm:ms@2.1.3"; ms("2s")');
  assert.equal(literal.data?.["text/plain"], "2000", JSON.stringify(literal.error));
  // Once fetched, the same specifier may be computed: it is in the cache.
  const again = await t.kernel.execute('(await import("npm:" + name)).default("1m")');
  assert.equal(again.data?.["text/plain"], "60000", JSON.stringify(again.error));
});

Deno.test("a package the host cannot fetch gets an error naming it; later imports still work", async () => {
  await using t = await startKernel();
  const missing = await t.kernel.execute(`import nothing from "${UNCACHED}"; nothing`);
  assert.equal(missing.status, "error");
  assert.equal(missing.error?.name, "TypeError");
  assert.match(
    missing.error!.message,
    /^Cannot import "npm:mkh-no-such-package-7f3a@1\.0\.0": the host could not fetch it: .*mkh-no-such-package-7f3a/s,
  );
  const caught = await t.kernel.execute(
    `let optional; try { optional = await import("${UNCACHED}") } catch { optional = "absent" }
     import superjson from "${CACHED}"; [optional, typeof superjson]`,
  );
  assert.equal(
    caught.data?.["text/plain"],
    '[ "absent", "function" ]',
    JSON.stringify(caught.error),
  );
  const badVersion = await t.kernel.execute('import sj from "npm:superjson@99.99.99"');
  assert.match(badVersion.error!.message, /npm:superjson@99\.99\.99.*could not fetch it/s);
  const still = await t.kernel.execute(`import again from "${CACHED}"; typeof again`);
  assert.equal(still.data?.["text/plain"], '"function"', JSON.stringify(still.error));
});

Deno.test("--npm-allow: an unlisted package is refused by name, literal or computed", async () => {
  await using t = await startKernel({ npmAllow: ["superjson"] });
  const refused = await t.kernel.execute('import ms from "npm:ms@2.1.3"');
  assert.equal(refused.status, "error");
  assert.equal(
    refused.error?.message,
    'Cannot import "npm:ms@2.1.3": the package ms is not among those this host allows kernels ' +
      "to import (--npm-allow: superjson); the operator may add it",
  );
  const computed = await t.kernel.execute('await import("npm:" + "ms@2.1.3")');
  assert.match(computed.error!.message, /package ms is not among those/);
  const allowed = await t.kernel.execute(`import superjson from "${CACHED}"; typeof superjson`);
  assert.equal(allowed.data?.["text/plain"], '"function"', JSON.stringify(allowed.error));
});

Deno.test("npm imports of scratch-folder modules, the prelude and a restored snapshot are fetched first", async () => {
  await using t = await startKernel({ prelude: 'import ms from "npm:ms@2.1.3";' });
  const prelude = await t.kernel.execute('ms("1s")');
  assert.equal(prelude.data?.["text/plain"], "1000", JSON.stringify(prelude.error));
  await Deno.writeTextFile(
    join(t.scratchDir, "helpers.ts"),
    'export { default as superjson } from "npm:superjson@2.2.6";\nexport * from "./more.js";',
  );
  await Deno.writeTextFile(
    join(t.scratchDir, "more.js"),
    'export { default as d } from "npm:debug@4.4.3";',
  );
  const file = await t.kernel.execute(
    'import { superjson, d } from "./helpers.ts"; [typeof superjson, typeof d]',
  );
  assert.equal(file.data?.["text/plain"], '[ "function", "function" ]', JSON.stringify(file.error));

  const saved = await t.kernel.execute(`import sj from "${CACHED}"; const kept = sj.stringify(2n)`);
  assert.equal(saved.status, "ok", JSON.stringify(saved.error));
  const snapshot = await t.kernel.snapshot();
  // A fresh kernel has fetched nothing yet: the restore fetches what the snapshot imports.
  await using fresh = await KernelHandle.start({ scratchDir: t.scratchDir, memoryLimitMb: 256 });
  const report = await fresh.restore(snapshot.body);
  assert.deepEqual(report.skipped, []);
  const back = await fresh.execute("sj.parse(kept)");
  assert.equal(back.data?.["text/plain"], "2n", JSON.stringify(back.error));
});

Deno.test("a module whose npm imports the host has not fetched is refused before Deno tries it", async () => {
  await using t = await startKernel();
  // Written and imported in the same cell: the host read no such file before the cell ran.
  const same = await t.kernel.execute(
    `await Deno.writeTextFile("late.ts", 'export { default as ms } from "npm:ms@2.1.3";');
     await import("./late.ts")`,
  );
  assert.equal(same.status, "error");
  assert.equal(
    same.error?.message,
    'Cannot import "./late.ts", which imports "npm:ms@2.1.3": the host fetches the npm packages ' +
      "of scratch-folder modules before a cell runs, for the modules the cell imports by a " +
      "literal path; import it in a new cell",
  );
  const next = await t.kernel.execute('import { ms } from "./late.ts"; ms("3s")');
  assert.equal(next.data?.["text/plain"], "3000", JSON.stringify(next.error));
});

Deno.test("a module's npm imports never make the host download: a cell must name them", async () => {
  await using t = await startKernel();
  await Deno.writeTextFile(
    join(t.scratchDir, "exfil.js"),
    `export * from "${UNCACHED}";`,
  );
  const r = await t.kernel.execute('import * as m from "./exfil.js"');
  assert.equal(r.status, "error");
  assert.equal(
    r.error?.message,
    `Cannot import "./exfil.js", which imports "${UNCACHED}": a scratch-folder module imports ` +
      "it, and the host downloads only the packages a cell names in its own text: import " +
      `"${UNCACHED}" in a cell first`,
  );
});

Deno.test("--npm-allow holds for the packages of scratch-folder modules too", async () => {
  await using t = await startKernel({ npmAllow: ["superjson"] });
  await Deno.writeTextFile(join(t.scratchDir, "uses_ms.js"), 'export * from "npm:ms@2.1.3";');
  await Deno.writeTextFile(join(t.scratchDir, "wrapper.js"), 'export * from "./uses_ms.js";');
  const r = await t.kernel.execute('import * as m from "./wrapper.js"');
  assert.equal(r.status, "error");
  assert.equal(
    r.error?.message,
    'Cannot import "./wrapper.js", which imports "npm:ms@2.1.3": the package ms is not among ' +
      "those this host allows kernels to import (--npm-allow: superjson); the operator may add it",
  );
  const computed = await t.kernel.execute('const path = "./wrap" + "per.js"; await import(path)');
  assert.match(computed.error!.message, /package ms is not among/);
});

Deno.test("a cell cancelled while the host fetches its packages does not run", async () => {
  await using t = await startKernel();
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  const r = await t.kernel.execute(
    `globalThis.ran = true; await import(${JSON.stringify(UNCACHED)})`,
    { signal: controller.signal },
  );
  assert.equal(r.status, "cancelled");
  assert.match(r.error!.message, /cancelled before it started; it did not run/);
  const ran = await t.kernel.execute("typeof ran");
  assert.equal(ran.data?.["text/plain"], '"undefined"');
});
