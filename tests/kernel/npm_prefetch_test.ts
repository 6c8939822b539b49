import assert from "node:assert/strict";
import { join } from "node:path";
import { prefetchNpm } from "../../src/kernel/npm_prefetch.ts";
import { withDenoDir } from "./_deno_dir.ts";

/** A `deno` that must never run: the cases below need no fetch. */
const NO_DENO = "/nonexistent/deno";

async function scratch(files: Record<string, string>): Promise<string & AsyncDisposable> {
  const root = await Deno.makeTempDir({ prefix: "mkh-prefetch-" });
  const dir = join(root, "files");
  await Deno.mkdir(join(dir, "lib"), { recursive: true });
  await Deno.mkdir(join(root, "outside"), { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(root, name), text);
  }
  return Object.assign(dir, {
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  }) as string & AsyncDisposable;
}

Deno.test("code that imports no npm package costs no subprocess", async () => {
  assert.equal(
    await prefetchNpm({ npm: [], files: [] }, { scratchDir: "/s", deno: NO_DENO }),
    undefined,
  );
});

Deno.test("an unlisted package is refused without a fetch; a listed one is fetched", async () => {
  const readiness = await prefetchNpm(
    { npm: ["npm:ms@2.1.3", "npm:superjson@2.2.6"], files: [] },
    { scratchDir: "/s", deno: Deno.execPath(), allow: ["superjson"] },
  );
  assert.deepEqual(readiness?.fetched, ["npm:superjson@2.2.6"]);
  assert.deepEqual(Object.keys(readiness!.refused), ["npm:ms@2.1.3"]);
  assert.match(readiness!.refused["npm:ms@2.1.3"]!, /package ms is not among/);
});

Deno.test("scratch files imported by literal path are read for npm imports, file by file", async () => {
  await using dir = await scratch({
    "files/a.ts": 'import { b } from "./lib/b.js";\nconst n: number = 1;\nexport { n, b };',
    "files/lib/b.js": 'export * from "npm:zod@4.6.7";\nexport const b = () => import("../c.mjs");',
    "files/c.mjs": 'import "npm:ms@2.1.3"; import "../outside/d.js"; import "./a.ts";',
    "outside/d.js": 'import "npm:never-read";',
  });
  // An allow list of none refuses every package it finds, so nothing is fetched.
  const readiness = await prefetchNpm(
    { npm: [], files: ["./a.ts"] },
    { scratchDir: dir, deno: NO_DENO, allow: [] },
  );
  assert.deepEqual(Object.keys(readiness!.refused).sort(), ["npm:ms@2.1.3", "npm:zod@4.6.7"]);
  assert.deepEqual(readiness!.fetched, []);
});

Deno.test("a missing or unparsable scratch file adds nothing (Deno reports it on import)", async () => {
  await using dir = await scratch({ "files/bad.ts": "import {" });
  assert.equal(
    await prefetchNpm({ npm: [], files: ["./bad.ts", "./missing.ts"] }, {
      scratchDir: dir,
      deno: NO_DENO,
    }),
    undefined,
  );
});

Deno.test("a fetch that fails names the package, one specifier at a time", async () => {
  const readiness = await prefetchNpm(
    { npm: ["npm:superjson@2.2.6", "npm:mkh-no-such-package-7f3a@1.0.0"], files: [] },
    { scratchDir: "/s", deno: Deno.execPath() },
  );
  assert.deepEqual(readiness?.fetched, ["npm:superjson@2.2.6"]);
  assert.match(
    readiness!.refused["npm:mkh-no-such-package-7f3a@1.0.0"]!,
    /^Cannot import "npm:mkh-no-such-package-7f3a@1\.0\.0": the host could not fetch it: /,
  );
});

Deno.test("a stopped fetch refuses what it did not fetch, saying why", async () => {
  const readiness = await prefetchNpm(
    { npm: ["npm:mkh-never-fetched@1.0.0"], files: [] },
    { scratchDir: "/s", deno: Deno.execPath(), signal: AbortSignal.abort() },
  );
  assert.match(readiness!.refused["npm:mkh-never-fetched@1.0.0"]!, /the fetch was stopped/);
});

Deno.test("packages a module mentions are looked up in the cache, never downloaded", async () => {
  await using dir = await scratch({
    "files/a.js": 'import "npm:ms@2.1.3";\n// import "npm:mkh-no-such-package-7f3a@1.0.0"',
  });
  const readiness = await prefetchNpm(
    { npm: [], files: ["./a.js"] },
    { scratchDir: dir, deno: Deno.execPath() },
  );
  assert.deepEqual(readiness?.fetched, ["npm:ms@2.1.3"]);
  // A download would have said the package does not exist; the lookup names the rule.
  assert.equal(
    readiness!.refused["npm:mkh-no-such-package-7f3a@1.0.0"],
    'Cannot import "npm:mkh-no-such-package-7f3a@1.0.0": a scratch-folder module imports it, ' +
      "and the host downloads only the packages a cell names in its own text: import " +
      '"npm:mkh-no-such-package-7f3a@1.0.0" in a cell first',
  );
});

Deno.test("packages a kernel imports one after another are all in the cache after one fetch", async () => {
  // Found by the notebook test: with d3-array 3.2.4 already cached (the host's own vega), one
  // `deno cache` of vega and vega-lite together reused it, while a process importing vega, then
  // vega-lite, resolves d3-array afresh to its newest version and, `--cached-only`, failed.
  await withDenoDir(async (run, denoDir) => {
    assert.ok((await run(["cache", "--no-config", "--no-lock", "npm:d3-array@3.2.4"])).success);
    const specifiers = ["npm:vega@6", "npm:vega-lite@6"];
    const readiness = await prefetchNpm(
      { npm: specifiers, files: [] },
      { scratchDir: denoDir, deno: Deno.execPath() },
    );
    assert.deepEqual(readiness, { fetched: specifiers, refused: {} });
    const code = specifiers.map((s) => `await import("${s}");`).join("\n");
    const output = await run(["eval", "--cached-only", "--no-config", "--no-lock", code]);
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
  });
});
