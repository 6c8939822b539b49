import assert from "node:assert/strict";
import { join } from "node:path";
import { missedNpmPackage } from "../../src/kernel/npm_miss.ts";
import { withDenoDir } from "./_deno_dir.ts";
import { startKernel } from "./_kernel.ts";

Deno.test("a package missed by a --cached-only process is read from its error, scoped too", () => {
  const message = (spec: string, name: string) =>
    `Failed caching npm package '${spec}'\n    0: npm package not found in cache: "${name}", ` +
    "--cached-only is specified.";
  assert.equal(
    missedNpmPackage({
      name: "TypeError",
      stack: "",
      message: message("d3-array@3.2.5", "d3-array"),
    }),
    "d3-array@3.2.5",
  );
  assert.equal(
    missedNpmPackage({
      name: "TypeError",
      stack: "",
      message: message("@scope/p.q@1.0.0-rc.1", "@scope/p.q"),
    }),
    "@scope/p.q@1.0.0-rc.1",
  );
  assert.equal(
    missedNpmPackage({ name: "TypeError", stack: "", message: "Failed caching npm package" }),
    undefined,
  );
  assert.equal(missedNpmPackage(undefined), undefined);
});

Deno.test("a kernel whose process missed a dependency gets it fetched, keeps its variables and runs the cell again", async () => {
  // The cache as the host's own vega leaves it (d3-array 3.2.4), and vega and vega-lite
  // fetched together: a process importing vega, then vega-lite, asks for a newer d3-array.
  await withDenoDir(async (run) => {
    for (const specifiers of [["npm:d3-array@3.2.4"], ["npm:vega@6", "npm:vega-lite@6"]]) {
      assert.ok((await run(["cache", "--no-config", "--no-lock", ...specifiers])).success);
    }
    await using t = await startKernel();
    // A scratch module's packages are only looked up (all at once), and are found.
    await Deno.writeTextFile(
      join(t.scratchDir, "charts.js"),
      'export const vega = await import("npm:vega@6");\n' +
        'export const vl = await import("npm:vega-lite@6");\n',
    );
    assert.equal((await t.kernel.execute("const kept = [1, 2, 3]; kept.length")).status, "ok");
    const cell = 'const { vega, vl } = await import("./charts.js"); typeof vl.compile';
    const missed = await t.kernel.execute(cell);
    assert.equal(missed.status, "error");
    assert.match(missed.error!.message, /Deno resolved a dependency to d3-array@[\d.]+, which/);
    assert.match(missed.error!.message, /fetched it now and moved the kernel to a fresh process/);
    // Only the failed cell's own bindings, never set, stay behind.
    assert.doesNotMatch(missed.lost ?? "", /\bkept\b/);
    const again = await t.kernel.execute(cell);
    assert.equal(again.status, "ok", JSON.stringify(again.error));
    assert.equal(again.data?.["text/plain"], '"function"');
    assert.equal((await t.kernel.execute("kept.join()")).data?.["text/plain"], '"1,2,3"');
  });
});
