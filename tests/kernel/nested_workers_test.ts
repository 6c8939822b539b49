import assert from "node:assert/strict";
import { join } from "node:path";
import { startKernel } from "./_kernel.ts";

/** A Worker that adds one to a shared counter every 10 ms, for as long as it runs. */
const TICKER = "onmessage = (e) => { const c = new Int32Array(e.data); " +
  "setInterval(() => Atomics.add(c, 0, 1), 10); };";

/** Starts a ticker and returns once it has ticked (a nested Worker can take a second to start). */
function startTicker(binding: string, scratchDir: string): string {
  return `const ${binding} = new Int32Array(new SharedArrayBuffer(4));
    const ${binding}Worker = new Worker(new URL("./ticker.js", "file://${scratchDir}/"),
      { type: "module" });
    ${binding}Worker.postMessage(${binding}.buffer);
    for (let i = 0; i < 200 && Atomics.load(${binding}, 0) === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    Atomics.load(${binding}, 0) > 0`;
}

/** How much a counter grows in 300 ms. */
const STILL_TICKING = (binding: string) =>
  `await (async () => { const before = Atomics.load(${binding}, 0);
     await new Promise((r) => setTimeout(r, 300)); return Atomics.load(${binding}, 0) - before; })()`;

Deno.test("a Worker a cell starts ends when the cell returns, and the cell is told", async () => {
  await using t = await startKernel();
  await Deno.writeTextFile(join(t.scratchDir, "ticker.js"), TICKER);
  const started = await t.kernel.execute(startTicker("counter", t.scratchDir));
  assert.equal(started.status, "ok", JSON.stringify(started.error));
  assert.equal(started.data?.["text/plain"], "true", "the ticker ran during its cell");
  assert.match(started.stderr, /terminated 1 Worker\(s\) the cell started/);

  const later = await t.kernel.execute(STILL_TICKING("counter"));
  assert.equal(later.status, "ok", JSON.stringify(later.error));
  assert.equal(later.data?.["text/plain"], "0", "the counter stopped growing");
  assert.equal(later.stderr, "");
});

Deno.test("a subclass or the prototype's constructor cannot start an untracked Worker", async () => {
  await using t = await startKernel();
  await Deno.writeTextFile(join(t.scratchDir, "ticker.js"), TICKER);
  const code = startTicker("sub", t.scratchDir)
    .replace("new Worker(", "new (class extends Worker {})(");
  const viaClass = await t.kernel.execute(code);
  assert.equal(viaClass.data?.["text/plain"], "true", JSON.stringify(viaClass.error));
  assert.match(viaClass.stderr, /terminated 1 Worker\(s\)/);
  const viaProto = await t.kernel.execute(
    startTicker("proto", t.scratchDir).replace("new Worker(", "new Worker.prototype.constructor("),
  );
  assert.equal(viaProto.data?.["text/plain"], "true", JSON.stringify(viaProto.error));
  assert.match(viaProto.stderr, /terminated 1 Worker\(s\)/);
  const after = await t.kernel.execute(`${STILL_TICKING("sub")} + ${STILL_TICKING("proto")}`);
  assert.equal(after.data?.["text/plain"], "0");
  const replace = await t.kernel.execute("globalThis.Worker = class Fake {}; Worker.name");
  assert.equal(replace.data?.["text/plain"], '"Worker"', "the tracked Worker stays");
});

Deno.test("a Worker the cell terminated itself is not counted", async () => {
  await using t = await startKernel();
  await Deno.writeTextFile(join(t.scratchDir, "ticker.js"), TICKER);
  const r = await t.kernel.execute(
    `const w = new Worker(new URL("./ticker.js", "file://${t.scratchDir}/"), { type: "module" });
     w.terminate(); 1`,
  );
  assert.equal(r.status, "ok", JSON.stringify(r.error));
  assert.equal(r.stderr, "");
});
