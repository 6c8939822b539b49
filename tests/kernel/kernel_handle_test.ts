import assert from "node:assert/strict";
import { join } from "node:path";
import { KernelHandle, TIMEOUT_GRACE_MS } from "../../src/kernel/kernel_handle.ts";
import { SPARE_SESSIONS } from "../../src/kernel/worker/repl.ts";
import { startKernel } from "./_kernel.ts";

Deno.test("top-level let, const, class and function persist to later cells", async () => {
  await using t = await startKernel();
  const k = t.kernel;
  await k.execute("let a = 1; const b = 2; class P { constructor(x) { this.x = x } }");
  await k.execute("function twice(n) { return 2 * n }");
  const r = await k.execute("twice(a + b) + new P(4).x");
  assert.equal(r.status, "ok");
  assert.equal(r.data?.["text/plain"], "10");
});

Deno.test("a later cell may declare the same const again, replacing it", async () => {
  await using t = await startKernel();
  await t.kernel.execute("const x = 1");
  const again = await t.kernel.execute("const x = 2; x");
  assert.equal(again.status, "ok");
  assert.equal(again.data?.["text/plain"], "2");
  assert.equal((await t.kernel.execute("x")).data?.["text/plain"], "2");
});

Deno.test("top-level await works and its binding persists", async () => {
  await using t = await startKernel();
  const r = await t.kernel.execute(
    "const v = await new Promise((r) => setTimeout(() => r(41), 5)); v + 1",
  );
  assert.equal(r.data?.["text/plain"], "42");
  assert.equal((await t.kernel.execute("v")).data?.["text/plain"], "41");
});

Deno.test("console output is captured per cell, stdout and stderr apart", async () => {
  await using t = await startKernel();
  const first = await t.kernel.execute("console.log('one', {a: 1}); console.error('warn'); 2");
  assert.equal(first.stdout, "one { a: 1 }\n");
  assert.equal(first.stderr, "warn\n");
  assert.equal(first.data?.["text/plain"], "2");
  const second = await t.kernel.execute(
    "console.info('two'); Deno.stdout.writeSync(new TextEncoder().encode('raw'))",
  );
  assert.equal(second.stdout, "two\nraw");
  assert.equal(second.stderr, "");
});

Deno.test("a thrown error comes back with name, message and a stack in cell coordinates", async () => {
  await using t = await startKernel();
  await t.kernel.execute("function inner() {\n  throw new RangeError('too big');\n}");
  const r = await t.kernel.execute("// comment\n\ninner()");
  assert.equal(r.status, "error");
  assert.equal(r.error?.name, "RangeError");
  assert.equal(r.error?.message, "too big");
  assert.match(r.error!.stack, /at inner \(cell-1:2:9\)/);
  assert.match(r.error!.stack, /at cell-2:3:1/);
  assert.doesNotMatch(r.error!.stack, /kernel\/worker|ext:/);
});

Deno.test("_ holds the last value and _error the last error", async () => {
  await using t = await startKernel();
  await t.kernel.execute("6 * 7");
  await t.kernel.execute("const unused = 1");
  assert.equal((await t.kernel.execute("_")).data?.["text/plain"], "42");
  await t.kernel.execute("null.boom");
  assert.equal(
    (await t.kernel.execute("_error instanceof TypeError")).data?.["text/plain"],
    "true",
  );
});

for (const loop of ["while (true) {}", "for (;;) {}"]) {
  Deno.test(`a cell past its timeout (${loop}) is interrupted; the kernel keeps every variable`, async () => {
    await using t = await startKernel({ cellTimeoutMs: 30_000 });
    const pid = t.kernel.pid;
    await t.kernel.execute("let a = 1; let b = 2; const f = (x) => x * 2");
    const r = await t.kernel.execute(`b = 3; ${loop}`, { timeoutMs: 300 });
    assert.equal(r.status, "timeout");
    assert.equal(r.error?.name, "KernelTimeoutError");
    assert.match(r.error!.message, /did not finish within 300 ms; it was interrupted/);
    assert.match(r.error!.message, /nothing was lost/);
    assert.equal(r.lost, undefined);
    assert.ok(r.durationMs < 2000, `stopped after ${r.durationMs} ms`);
    const after = await t.kernel.execute("[a, b, f(a)]");
    assert.equal(after.status, "ok");
    assert.equal(after.data?.["text/plain"], "[ 1, 3, 2 ]", "partial effects stay, as in IPython");
    assert.equal(t.kernel.pid, pid, "the same sandbox process");
  });
}

Deno.test("an awaiting cell past its timeout is abandoned; the kernel keeps its state and answers", async () => {
  await using t = await startKernel();
  const pid = t.kernel.pid;
  await t.kernel.execute("let a = 1");
  const r = await t.kernel.execute("a = 2; await new Promise(() => {})", { timeoutMs: 300 });
  assert.equal(r.status, "timeout");
  assert.equal(r.lost, undefined);
  assert.equal((await t.kernel.execute("a")).data?.["text/plain"], "2");
  assert.equal(t.kernel.pid, pid);
  // A sandbox whose Worker still awaits an abandoned cell restarts and closes cleanly.
  await t.kernel.reset();
  assert.equal((await t.kernel.execute("typeof a")).data?.["text/plain"], '"undefined"');
  await t.kernel.execute("await new Promise(() => {})", { timeoutMs: 200 });
});

Deno.test("an abandoned awaiting cell collected by the garbage collector does not crash the kernel", async () => {
  await using t = await startKernel();
  const pid = t.kernel.pid;
  await t.kernel.execute("let kept = 'here'");
  await t.kernel.execute("await new Promise(() => {})", { timeoutMs: 200 });
  const churn = await t.kernel.execute(
    "for (let i = 0; i < 30; i++) { const junk = new Array(1e6).fill({}) } kept",
  );
  assert.equal(churn.status, "ok", JSON.stringify(churn.error));
  assert.equal(churn.data?.["text/plain"], '"here"');
  assert.equal(t.kernel.pid, pid);
});

Deno.test("once its spare sessions are used up, the namespace moves to a fresh sandbox", async () => {
  await using t = await startKernel();
  await t.kernel.execute("let kept = 1; const pending = new Promise(() => {})");
  const pid = t.kernel.pid;
  for (let i = 1; i < SPARE_SESSIONS; i++) {
    const r = await t.kernel.execute("await new Promise(() => {})", { timeoutMs: 100 });
    assert.equal(r.lost, undefined, `abandoned cell ${i}`);
    assert.equal(t.kernel.pid, pid);
  }
  const last = await t.kernel.execute("kept++; await new Promise(() => {})", { timeoutMs: 100 });
  assert.equal(last.status, "timeout");
  assert.notEqual(t.kernel.pid, pid, "a fresh sandbox");
  assert.match(last.lost ?? "", /moved to a fresh process.*these did not move: pending/);
  // Its error does not say "nothing was lost" above a lost that names what was.
  assert.doesNotMatch(last.error!.message, /nothing was lost/);
  assert.match(last.error!.message, /kept its variables .* except those lost names/);
  assert.equal((await t.kernel.execute("kept")).data?.["text/plain"], "2", "the namespace moved");
  const again = await t.kernel.execute("await new Promise(() => {})", { timeoutMs: 100 });
  assert.equal(again.lost, undefined, "the fresh sandbox has its spares again");
});

Deno.test("a cell that does not stop when interrupted is killed at the grace and the loss said", async () => {
  await using t = await startKernel({ cellTimeoutMs: 30_000 });
  const pid = t.kernel.pid;
  await t.kernel.execute("const kept = 1");
  // After an await, synchronous code is beyond the evaluation's own timeout, and code the
  // kernel did not compile has no interrupt checks.
  const r = await t.kernel.execute('await null; eval("for (;;) {}")', { timeoutMs: 300 });
  assert.equal(r.status, "timeout");
  assert.equal(r.error?.name, "KernelTimeoutError");
  assert.match(r.error!.message, /did not stop when interrupted; the kernel was stopped/);
  assert.match(r.lost ?? "", /all variables/);
  assert.ok(r.durationMs >= 300 + TIMEOUT_GRACE_MS, `killed after ${r.durationMs} ms`);
  assert.notEqual(t.kernel.pid, pid, "a fresh sandbox");
  assert.equal((await t.kernel.execute("typeof kept")).data?.["text/plain"], '"undefined"');
});

Deno.test("a timer that loops forever is stopped by its checks at the next cell's deadline", async () => {
  await using t = await startKernel();
  const pid = t.kernel.pid;
  await t.kernel.execute("let kept = 1; setTimeout(() => { for (;;) {} }, 0)");
  const r = await t.kernel.execute("1", { timeoutMs: 200 });
  assert.equal(r.status, "ok");
  assert.equal(r.lost, undefined);
  assert.equal((await t.kernel.execute("kept")).data?.["text/plain"], "1");
  assert.equal(t.kernel.pid, pid);
});

Deno.test("a timer that loops forever in unchecked code is killed at the next cell's deadline", async () => {
  await using t = await startKernel();
  await t.kernel.execute('setTimeout(() => eval("for (;;) {}"), 0)');
  const r = await t.kernel.execute("1", { timeoutMs: 200 });
  assert.equal(r.status, "timeout");
  assert.match(r.lost ?? "", /all variables/);
  assert.equal((await t.kernel.execute("2")).data?.["text/plain"], "2");
});

Deno.test("a cancel stops an awaiting cell at once; the kernel keeps every variable", async () => {
  await using t = await startKernel();
  const pid = t.kernel.pid;
  await t.kernel.execute("let a = 1; const f = (x) => x * 2");
  const cancel = new AbortController();
  const running = t.kernel.execute("a = 5; await new Promise(() => {})", { signal: cancel.signal });
  await new Promise((r) => setTimeout(r, 200));
  const at = performance.now();
  cancel.abort();
  const r = await running;
  assert.equal(r.status, "cancelled");
  assert.equal(r.error?.name, "KernelInterruptError");
  assert.match(r.error!.message, /nothing was lost/);
  assert.equal(r.lost, undefined);
  const next = await t.kernel.execute("[a, f(a)]");
  assert.ok(performance.now() - at < 2000, "answered within 2 s of the cancel");
  assert.equal(next.data?.["text/plain"], "[ 5, 10 ]");
  assert.equal(t.kernel.pid, pid);
});

Deno.test("a cancelled or timed-out awaiting cell does not go on when what it awaited settles", async () => {
  // One abandoned cell per kernel: a second one would move the kernel to a fresh process, which
  // ends the first's continuation anyway.
  for (const how of ["cancel", "timeout"] as const) {
    await using t = await startKernel();
    const pid = t.kernel.pid;
    await t.kernel.execute(
      "const orders = { placed: 0 }; const sleep = (ms) => new Promise((r) => setTimeout(r, ms))",
    );
    const cancel = new AbortController();
    setTimeout(() => cancel.abort(), 100);
    const stopped = await t.kernel.execute(
      "orders.placed += 10; await sleep(400); orders.placed += 1; orders.placed",
      how === "cancel" ? { signal: cancel.signal } : { timeoutMs: 100 },
    );
    assert.equal(stopped.status, how === "cancel" ? "cancelled" : "timeout");
    await new Promise((r) => setTimeout(r, 700));
    // The effect the cell made before it stopped, not the one after its await.
    const after = await t.kernel.execute("await sleep(10); orders.placed");
    assert.equal(after.status, "ok", JSON.stringify(after.error));
    assert.equal(after.data?.["text/plain"], "10", how);
    assert.equal(after.stderr, "", how);
    assert.equal(t.kernel.pid, pid, "the same process");
  }
});

Deno.test("a cancel of a synchronous loop in unchecked code restarts the kernel within the grace and says what was lost", async () => {
  await using t = await startKernel();
  await t.kernel.execute("let a = 1");
  const cancel = new AbortController();
  const running = t.kernel.execute('eval("while (true) {}")', { signal: cancel.signal });
  await new Promise((r) => setTimeout(r, 200));
  const at = performance.now();
  cancel.abort();
  const r = await running;
  assert.equal(r.status, "cancelled");
  assert.match(r.error!.message, /synchronous code cannot be interrupted/);
  assert.match(r.lost ?? "", /all variables/);
  const next = await t.kernel.execute("typeof a");
  assert.ok(performance.now() - at < 2000, "answered within 2 s of the cancel");
  assert.equal(next.data?.["text/plain"], '"undefined"');
});

Deno.test("a cell cancelled while it waits in the queue does not run", async () => {
  await using t = await startKernel();
  await t.kernel.execute("let n = 0");
  const first = t.kernel.execute("await new Promise((r) => setTimeout(r, 200)); n++");
  const cancel = new AbortController();
  const second = t.kernel.execute("n += 10", { signal: cancel.signal });
  cancel.abort();
  assert.equal((await first).status, "ok");
  assert.equal((await second).status, "cancelled");
  assert.equal((await t.kernel.execute("n")).data?.["text/plain"], "1");
});

Deno.test("a cell's output reaches onOutput while it runs, and the result keeps all of it", async () => {
  await using t = await startKernel();
  const seen: { text: string; at: number }[] = [];
  const started = performance.now();
  const r = await t.kernel.execute(
    "for (let i = 0; i < 3; i++) { console.log(`line ${i}`); await new Promise((r) => setTimeout(r, 150)) }",
    { onOutput: (text) => seen.push({ text, at: performance.now() - started }) },
  );
  assert.equal(r.stdout, "line 0\nline 1\nline 2\n");
  assert.equal(seen.map((s) => s.text).join(""), r.stdout);
  assert.ok(
    seen[0]!.at < r.durationMs - 200,
    `first output at ${seen[0]!.at} ms of ${r.durationMs}`,
  );
});

Deno.test("kernel A cannot see kernel B's variables", async () => {
  await using a = await startKernel();
  await using b = await startKernel();
  await a.kernel.execute("const secret = 'only in A'; globalThis.alsoSecret = 1");
  const r = await b.kernel.execute("typeof secret + ' ' + typeof alsoSecret");
  assert.equal(r.data?.["text/plain"], '"undefined undefined"');
});

Deno.test("TypeScript syntax is accepted, enums and parameter properties included", async () => {
  await using t = await startKernel();
  const r = await t.kernel.execute(
    "interface Shape { area(): number }\n" +
      "enum Color { Red, Green }\n" +
      "class Square implements Shape { constructor(private side: number) {} area(): number { return this.side ** 2 } }\n" +
      "const s: Shape = new Square(3);\n" +
      "`${s.area()} ${Color[Color.Green]}` as string",
  );
  assert.equal(r.status, "ok", JSON.stringify(r.error));
  assert.equal(r.data?.["text/plain"], '"9 Green"');
});

Deno.test("an npm import in a cell persists to later cells", async () => {
  await using t = await startKernel();
  const first = await t.kernel.execute('import ms from "npm:ms@2.1.3"; ms("2h")');
  assert.equal(first.status, "ok", JSON.stringify(first.error));
  assert.equal(first.data?.["text/plain"], "7200000");
  assert.equal((await t.kernel.execute('ms("1m")')).data?.["text/plain"], "60000");
  const missing = await t.kernel.execute('import { nothing } from "npm:ms@2.1.3"');
  assert.equal(missing.error?.name, "SyntaxError");
  assert.match(missing.error!.message, /does not provide an export named "nothing"/);
});

Deno.test("results are rendered like Deno.inspect within depth and length limits", async () => {
  await using t = await startKernel();
  assert.equal((await t.kernel.execute("'text'")).data?.["text/plain"], '"text"');
  assert.equal(
    (await t.kernel.execute("new Map([[1, {a: [1, 2]}]])")).data?.["text/plain"],
    "Map(1) { 1 => { a: [ 1, 2 ] } }",
  );
  const deep = await t.kernel.execute("({ a: { b: { c: { d: { e: { f: 1 } } } } } })");
  assert.match(deep.data!["text/plain"], /\[Object\]/);
  const long = await t.kernel.execute("Array.from({ length: 1000 }, (_, i) => i)");
  assert.match(long.data!["text/plain"], /\.\.\. 900 more items/);
  assert.equal((await t.kernel.execute("undefined")).data?.["text/plain"], undefined);
  assert.equal(
    (await t.kernel.execute("10n ** 20n")).data?.["text/plain"],
    "100000000000000000000n",
  );
});

Deno.test("the prelude runs before the first cell and after a reset", async () => {
  await using t = await startKernel({ prelude: "const greet = (n: string) => `hi ${n}`;" });
  assert.equal((await t.kernel.execute("greet('a')")).data?.["text/plain"], '"hi a"');
  await t.kernel.execute("const mine = 1");
  await t.kernel.reset();
  assert.equal((await t.kernel.execute("typeof mine")).data?.["text/plain"], '"undefined"');
  assert.equal((await t.kernel.execute("greet('b')")).data?.["text/plain"], '"hi b"');
});

Deno.test("a module in the scratch folder is re-imported when its file changes", async () => {
  await using t = await startKernel();
  const file = join(t.scratchDir, "helper.ts");
  await Deno.writeTextFile(file, "export const version: number = 1;\n");
  assert.equal(
    (await t.kernel.execute('import { version } from "./helper.ts"; version')).data?.["text/plain"],
    "1",
  );
  await Deno.writeTextFile(file, "export const version: number = 2; // edited\n");
  assert.equal(
    (await t.kernel.execute('import { version } from "./helper.ts"; version')).data?.["text/plain"],
    "2",
  );
  const dynamic = await t.kernel.execute('(await import("./helper.ts")).version');
  assert.equal(dynamic.data?.["text/plain"], "2");
});

Deno.test('completion covers globals, prototype-chain members and keys inside obj["', async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "class Base { baseMethod() {} }\nclass Child extends Base { childMethod() {} }\n" +
      "const child = new Child();\nconst table = { 'first col': 1, second: 2 };\nlet counterValue = 0;",
  );
  const globals = await t.kernel.complete("counterV");
  assert.deepEqual(globals, { matches: ["counterValue"], cursorStart: 0, cursorEnd: 8 });
  const members = await t.kernel.complete("child.");
  assert.ok(members.matches.includes("childMethod") && members.matches.includes("baseMethod"));
  assert.ok(members.matches.includes("hasOwnProperty"));
  const keys = await t.kernel.complete('x = table["fi');
  assert.deepEqual(keys, { matches: ["first col"], cursorStart: 11, cursorEnd: 13 });
  const middle = await t.kernel.complete("child.chi + 1", 9);
  assert.deepEqual(middle.matches, ["childMethod"]);
  assert.equal(middle.cursorStart, 6);
});

Deno.test("completion never runs code: no call results, no side-effecting getters", async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "let calls = 0; const o = { get tricky() { calls++; return { deep: 1 } } }; function f() { calls++; return o }",
  );
  assert.deepEqual((await t.kernel.complete("f().")).matches, []);
  assert.deepEqual((await t.kernel.complete("o.tricky.")).matches, []);
  assert.equal((await t.kernel.execute("calls")).data?.["text/plain"], "0");
});

Deno.test("variables are listed with type, preview and approximate size", async () => {
  await using t = await startKernel({ prelude: "const fromPrelude = 1;" });
  await t.kernel.execute(
    "const nums = [1, 2, 3]; var title = 'x'.repeat(1000); function helper() {}; class Point {}; const p = new Point();",
  );
  const vars = await t.kernel.variables();
  const byName = Object.fromEntries(vars.map((v) => [v.name, v]));
  assert.deepEqual(Object.keys(byName).sort(), ["helper", "nums", "p", "Point", "title"].sort());
  assert.equal(byName.nums!.type, "Array(3)");
  assert.equal(byName.nums!.preview, "[ 1, 2, 3 ]");
  assert.equal(byName.p!.type, "Point");
  assert.equal(byName.Point!.type, "class");
  assert.equal(byName.helper!.type, "function");
  assert.ok(byName.title!.approxBytes >= 2000, `title is ~2 kB, got ${byName.title!.approxBytes}`);
  assert.ok(byName.title!.preview.length <= 80);
});

Deno.test("inspecting shows members along the prototype chain and source of classes", async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "class Point { constructor(public x: number, public y: number) {} norm() { return Math.hypot(this.x, this.y) } }\nconst p = new Point(3, 4);",
  );
  const p = await t.kernel.inspect("p");
  assert.equal(p.type, "Point");
  assert.deepEqual(p.members.map((m) => m.name), ["x", "y", "norm"]);
  const cls = await t.kernel.inspect("Point");
  assert.equal(cls.type, "class");
  assert.match(cls.source!, /^class Point \{/);
  assert.match(cls.source!, /norm\(\)/);
  assert.equal((await t.kernel.inspect("p.x")).preview, "3");
  await assert.rejects(t.kernel.inspect("nope"), {
    name: "ReferenceError",
    message: /No variable "nope"/,
  });
  // A path past an array's end names the variable that does exist.
  await t.kernel.execute("const pts = [p]");
  await assert.rejects(t.kernel.inspect("pts[5].x"), {
    name: "ReferenceError",
    message: /^"pts\[5\]\.x" cannot be read: pts exists, but not that path into it/,
  });
});

Deno.test("reset empties the namespace, keeps the kernel and its count goes on", async () => {
  await using t = await startKernel();
  await t.kernel.execute("const gone = 1");
  await t.kernel.reset();
  assert.equal(t.kernel.executionCount, 1, "a number the agent has seen is not given again");
  assert.deepEqual(await t.kernel.variables(), []);
  const r = await t.kernel.execute("const gone = 2; gone");
  assert.equal(r.executionCount, 2);
  assert.equal(r.data?.["text/plain"], "2");
  assert.deepEqual(r.declared, ["gone"], "the names the cell declared are reported");
});

Deno.test("a cell with a syntax error reports where, and the kernel keeps its state", async () => {
  await using t = await startKernel();
  await t.kernel.execute("const kept = 5");
  const ts = await t.kernel.execute("const broken: = 1");
  assert.equal(ts.status, "error");
  assert.equal(ts.error?.name, "SyntaxError");
  assert.match(ts.error!.stack, /cell-2:1:15/);
  const js = await t.kernel.execute("let = = 2");
  assert.equal(js.error?.name, "SyntaxError");
  assert.equal((await t.kernel.execute("kept")).data?.["text/plain"], "5");
});

Deno.test("memoryBytes is the sandbox's own resident memory, answered while a cell runs", async () => {
  await using t = await startKernel();
  const k = t.kernel;
  const idle = await k.memoryBytes();
  assert.ok(idle !== null && idle > 10 * 2 ** 20 && idle < 2 ** 31, `idle ${idle}`);
  const running = k.execute(
    "const big = new Uint8Array(96 * 2 ** 20).fill(1); " +
      "await new Promise((r) => setTimeout(r, 1500)); big.length",
  );
  await new Promise((r) => setTimeout(r, 700));
  // The cell still sleeps: a queued request would wait until it ends.
  const started = performance.now();
  const during = await k.memoryBytes();
  assert.ok(performance.now() - started < 500, "memoryBytes waited for the cell");
  assert.ok(during !== null && during > idle + 64 * 2 ** 20, `idle ${idle}, during ${during}`);
  assert.equal((await running).status, "ok");
  await k.close();
  assert.equal(await k.memoryBytes(), null);
});

Deno.test("SIGINT and SIGTERM, as a process group gets them, leave the sandbox and its state", async () => {
  await using t = await startKernel();
  await t.kernel.execute("const kept = 'still here'");
  const pid = t.kernel.pid;
  Deno.kill(pid, "SIGINT");
  Deno.kill(pid, "SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  const r = await t.kernel.execute("kept");
  assert.equal(r.data?.["text/plain"], '"still here"');
  assert.equal(t.kernel.pid, pid, "the same sandbox process");
});

Deno.test("a cell given no timeout (Infinity) runs with no interrupt armed and finishes", async () => {
  await using t = await startKernel({ cellTimeoutMs: 50 });
  const r = await t.kernel.execute("await new Promise((r) => setTimeout(r, 200)); 'done'", {
    timeoutMs: Infinity,
  });
  assert.equal(r.status, "ok", JSON.stringify(r.error));
  assert.equal(r.data?.["text/plain"], '"done"', "the kernel's 50 ms default did not apply");
});

Deno.test("a kernel takes over a sandbox started ahead for it, and refuses one started otherwise", async () => {
  const root = await Deno.makeTempDir({ prefix: "mkh-test-" });
  try {
    const options = { scratchDir: join(root, "files"), memoryLimitMb: 256, prelude: "const p = 7" };
    const sandbox = await KernelHandle.spawnSandbox(options);
    for (const other of [{ memoryLimitMb: 320 }, { prelude: "" }, { scratchDir: root }]) {
      await assert.rejects(KernelHandle.start({ ...options, ...other, sandbox }), {
        name: "RangeError",
        message: /Cannot start kernel: the sandbox given was started for another folder/,
      });
    }
    await using kernel = await KernelHandle.start({ ...options, sandbox, executionCount: 4 });
    assert.equal(kernel.pid, sandbox.pid, "no other process was started");
    const r = await kernel.execute("p + 1");
    assert.deepEqual([r.data?.["text/plain"], r.executionCount], ["8", 5]);
    await kernel.reset();
    assert.notEqual(kernel.pid, sandbox.pid);
    assert.equal((await kernel.execute("p")).data?.["text/plain"], "7", "restarts run the prelude");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("onStart hears each cell that starts once, with its names, while it runs", async () => {
  await using t = await startKernel();
  const told: { cell: number; declared: string[]; finished: boolean }[] = [];
  let finished = false;
  const running = t.kernel.execute(
    "const a = 1; let b = 2; await new Promise((r) => setTimeout(r, 200)); a + b",
    { onStart: (c) => told.push({ ...c, finished }) },
  );
  const result = await running.finally(() => finished = true);
  assert.equal(result.status, "ok");
  assert.deepEqual(told, [{ cell: 1, declared: ["a", "b"], finished: false }]);
  // A cell that does not compile never starts; one cut off by its timeout did start.
  await t.kernel.execute("let = ;", { onStart: (c) => told.push({ ...c, finished }) });
  const stopped = await t.kernel.execute("while (true) {}", {
    timeoutMs: 100,
    onStart: (c) => told.push({ ...c, finished: false }),
  });
  assert.equal(stopped.status, "timeout");
  assert.deepEqual(told.map((c) => c.cell), [1, 3]);
});

Deno.test("with a disk quota watched, a cancel still stops a cell, before or while it runs", async () => {
  await using t = await startKernel({ diskQuota: { bytes: 1e9, files: 1000 } });
  await t.kernel.execute("let a = 1");
  const cancel = new AbortController();
  const running = t.kernel.execute("a = 5; await new Promise(() => {})", { signal: cancel.signal });
  await new Promise((r) => setTimeout(r, 200));
  const at = performance.now();
  cancel.abort();
  const r = await running;
  assert.equal(r.status, "cancelled");
  assert.ok(performance.now() - at < 2000, "answered within 2 s of the cancel");
  assert.equal((await t.kernel.execute("a")).data?.["text/plain"], "5");
  const early = await t.kernel.execute("a = 6", { signal: AbortSignal.abort() });
  assert.equal(early.status, "cancelled");
  assert.equal((await t.kernel.execute("a")).data?.["text/plain"], "5");
});
