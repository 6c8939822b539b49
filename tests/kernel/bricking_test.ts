/**
 * Ordinary code cannot brick a kernel (security issue, item 4): a top-level `const Symbol =
 * "AAPL"` used to break every later cell and the next save, and is now refused before it runs;
 * a static block that never ends at restore is stopped and skipped; a scratch folder replaced by
 * a file is made again at the next start, the loss said.
 */
import assert from "node:assert/strict";
import { compileCell } from "../../src/kernel/cell_compiler.ts";
import { protectedMessage } from "../../src/kernel/protected_globals.ts";
import { startKernel } from "./_kernel.ts";
import { openHost } from "../_host.ts";

Deno.test("top-level declarations of built-ins are refused by the compiler; blocks, functions and other globals are not", () => {
  for (
    const [code, name, kind] of [
      ['const Symbol = "AAPL"', "Symbol", "const"],
      ["let globalThis = {}", "globalThis", "let"],
      ["var JSON = 1", "JSON", "var"],
      ["class Promise {}", "Promise", "class"],
      ["function Object() {}", "Object", "function"],
      ["const { URL } = { URL: 1 }", "URL", "const"],
      ['import Deno from "npm:ms@2.1.3"', "Deno", "const"],
      // Locked by the kernel: V8's own "already declared" said nothing of why.
      ["function close() {}", "close", "function"],
    ] as const
  ) {
    const compiled = compileCell(code);
    assert.equal(compiled.ok, false, code);
    if (!compiled.ok) {
      assert.equal(compiled.error.name, "ProtectedGlobalError");
      assert.equal(compiled.error.message, protectedMessage(name, kind));
    }
  }
  for (
    const code of [
      "{ const Symbol = 1 }",
      "function f() { let JSON = 2; return JSON }",
      'const name = "x"',
      "const symbol = 'AAPL'",
    ]
  ) {
    assert.equal(compileCell(code).ok, true, code);
  }
  assert.match(protectedMessage("JSON", "let"), /use another name \(e\.g\. json\)/);
});

Deno.test("a cell that would hide Symbol or globalThis is refused; later cells, a save and a restore all work", async () => {
  await using t = await startKernel();
  const k = t.kernel;
  await k.execute("const prices = new Map([['AAPL', 190]]); const tag = Symbol('t')");
  for (const code of ['const Symbol = "AAPL"', "let globalThis = 1", "let Object = 5; 1"]) {
    const refused = await k.execute(code);
    assert.equal(refused.status, "error", code);
    assert.equal(refused.error?.name, "ProtectedGlobalError");
  }
  const after = await k.execute(
    "[prices.get('AAPL'), typeof Symbol, typeof Object.keys, [1, 2].map((x) => x * 2)]",
  );
  assert.equal(after.status, "ok", after.error?.message);
  assert.equal(after.data?.["text/plain"], '[ 190, "function", "function", [ 2, 4 ] ]');
  const snapshot = await k.snapshot();
  await k.reset();
  await k.restore(snapshot.body);
  assert.equal((await k.execute("prices.get('AAPL')")).data?.["text/plain"], "190");
});

Deno.test("a class whose static block does not end at restore is stopped, named and skipped; the rest is restored", async () => {
  await using t = await startKernel();
  const k = t.kernel;
  const defined = await k.execute(
    "class Clock { static { try { while (Deno.statSync('loop').isFile) {} } catch {} } }\n" +
      "const rows = [1, 2, 3]; 'defined'",
  );
  assert.equal(defined.status, "ok", defined.error?.message);
  // From now on the static block loops whenever it runs.
  await k.execute("Deno.writeTextFileSync('loop', 'x')");
  const snapshot = await k.snapshot();
  await k.reset();
  const report = await k.restore(snapshot.body);
  assert.ok(report.restored.includes("rows"), JSON.stringify(report));
  const clock = report.skipped.find((s) => s.path === "Clock");
  assert.match(clock?.reason ?? "", /ran for more than 5 s when restored/);
  assert.equal((await k.execute("rows.length")).data?.["text/plain"], "3");
});

Deno.test("a scratch folder a cell replaced with a file is made again at the next start, and the result says so", async () => {
  await using t = await startKernel();
  const k = t.kernel;
  await k.execute("const keep = 1");
  const replaced = await k.execute(
    `Deno.removeSync(${JSON.stringify(t.scratchDir)}, { recursive: true });
     Deno.writeTextFileSync(${JSON.stringify(t.scratchDir)}, "not a folder"); 'replaced'`,
  );
  assert.equal(replaced.status, "ok", replaced.error?.message);
  await k.reset();
  assert.ok((await Deno.stat(t.scratchDir)).isDirectory);
  const after = await k.execute(
    "Deno.writeTextFileSync('a.txt', 'x'); Deno.readTextFileSync('a.txt')",
  );
  assert.equal(after.data?.["text/plain"], '"x"');
  assert.match(after.lost ?? "", /replaced by a file; it was made again, empty/);
});

Deno.test("timers and microtask loops that restore-time code schedules are not started, and named; setters are not run", async () => {
  await using h = await openHost();
  const id = await h.host.createKernel({ persistent: true });
  // Each static block schedules busy work only once the file `arm` exists: at the restore.
  const arm = "Deno.statSync('arm');";
  const defined = await h.host.execute(
    id,
    `class Ticker { static { try { ${arm} setInterval(() => { while (true) {} }, 0) } catch {} } }
     class Later { static { try { ${arm} setTimeout(() => { while (true) {} }, 10) } catch {} } }
     class Spinner { static { try { ${arm} const spin = () => queueMicrotask(spin); spin() } catch {} } }
     class Chain { static { try { ${arm} const loop = () => Promise.resolve().then(loop); loop() } catch {} } }
     class Counter { static count = 41; static { Counter.count++ } }
     class Temp { set celsius(v) { try { ${arm} while (true) {} } catch {} } }
     const reading = Object.defineProperty(new Temp(), "celsius",
       { value: 21, writable: true, enumerable: true, configurable: true });
     Deno.writeTextFileSync("arm", "x"); Counter.count`,
  );
  assert.equal(defined.status, "ok", defined.error?.message);
  assert.equal(defined.data?.["text/plain"], "42");
  assert.equal(await h.host.stopKernel(id), true);

  const back = await h.host.execute(
    id,
    "[Counter.count, reading.celsius, reading instanceof Temp]",
  );
  assert.equal(back.status, "ok", back.error?.message);
  assert.equal(back.data?.["text/plain"], "[ 42, 21, true ]");
  for (
    const said of [
      "class Ticker's static block scheduled an interval during restore; not started",
      "class Later's static block scheduled a timer during restore; not started",
      "class Spinner's static block scheduled a microtask during restore; not started",
      "class Chain's static block scheduled a promise callback during restore; not started",
    ]
  ) assert.ok(back.lost?.includes(said), `${said}: ${back.lost}`);
  assert.doesNotMatch(back.lost ?? "", /Counter|Temp|reading/);
  // Had any of them started, the kernel would be busy forever and this would time out.
  await new Promise((r) => setTimeout(r, 100));
  const later = await h.host.execute(id, "setTimeout(() => {}, 0); 1 + 1");
  assert.equal(later.data?.["text/plain"], "2");
  assert.equal(later.status, "ok");
});

Deno.test("a class held in a value whose static block does not end at restore is stopped and named; the rest comes back", async () => {
  await using t = await startKernel();
  const k = t.kernel;
  const defined = await k.execute(
    "const kinds = { Plain: class { static tag = 'plain' }, Loop: class { static { try { " +
      "while (Deno.statSync('loop').isFile) {} } catch {} } } };\n" +
      "const helpers = { twice: (x) => x * 2 }; 'defined'",
  );
  assert.equal(defined.status, "ok", defined.error?.message);
  await k.execute("Deno.writeTextFileSync('loop', 'x')");
  const snapshot = await k.snapshot();
  await k.reset();
  const report = await k.restore(snapshot.body);
  const kinds = report.skipped.find((s) => s.path === "kinds");
  assert.match(kinds?.reason ?? "", /ran for more than 5 s when evaluated again/);
  assert.equal((await k.execute("helpers.twice(21)")).data?.["text/plain"], "42");
});
