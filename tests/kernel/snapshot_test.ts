import assert from "node:assert/strict";
import { startKernel } from "./_kernel.ts";

Deno.test("a snapshot lists what it cannot save by name and reason, and keeps the rest", async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "const pending = Promise.resolve(1); const weak = new WeakMap(); const sym = Symbol('s');\n" +
      "const mixed = { fine: 1, later: Promise.resolve(2) }; let n = 7",
  );
  const taken = await t.kernel.snapshot();
  const reasons = Object.fromEntries(taken.skipped.map((s) => [s.path, s.reason]));
  assert.match(reasons.pending ?? "", /a Promise cannot be saved/);
  assert.match(reasons.weak ?? "", /a WeakMap cannot be saved/);
  assert.match(reasons.sym ?? "", /a Symbol cannot be saved/);
  assert.match(reasons["mixed.later"] ?? "", /a Promise cannot be saved/);
  await using fresh = await startKernel();
  await fresh.kernel.restore(taken.body);
  assert.equal(
    (await fresh.kernel.execute("[n, mixed.fine, mixed.later]")).data?.["text/plain"],
    "[ 7, 1, undefined ]",
  );
});

Deno.test("declarations that fail together are restored one by one, and the failures reported", async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "function kept() { return 'kept' }\nvar method = ({ method() { return 1 } }).method\n" +
      "class Base { hi() { return 'hi' } }\nclass Derived extends Base {}\n" +
      // A built-in cannot be saved, so the class that extends it no longer evaluates.
      "const Native = Map\nclass Mine extends Native {}",
  );
  const taken = await t.kernel.snapshot();
  await using fresh = await startKernel();
  const report = await fresh.kernel.restore(taken.body);
  assert.deepEqual(report.skipped.map((s) => s.path), ["Mine"]);
  assert.match(report.skipped[0]!.reason, /its source no longer evaluates/);
  assert.ok(["kept", "Base", "Derived", "method"].every((n) => report.restored.includes(n)));
  assert.equal(
    (await fresh.kernel.execute("kept() + ' ' + new Derived().hi() + method()")).data?.[
      "text/plain"
    ],
    '"kept hi1"',
    "a shorthand method comes back too",
  );
});

Deno.test("a long array keeps its named keys through a snapshot, a plain one stays plain, and a Proxy's keys are its traps'", async () => {
  await using t = await startKernel();
  // 100,000 items: past the length from which the save asks the inspector for named keys.
  await t.kernel.execute(
    "const rows = Object.assign(Array.from({ length: 100000 }, (_, i) => ({ i })), " +
      "{ columns: ['i'] });\nconst plain = Array.from({ length: 100000 }, (_, i) => i);\n" +
      "const proxied = new Proxy(Object.assign(Array.from({ length: 30000 }, () => 1), " +
      "{ tag: 't' }), {})",
  );
  const taken = await t.kernel.snapshot();
  assert.deepEqual(taken.skipped, []);
  await using fresh = await startKernel();
  await fresh.kernel.restore(taken.body);
  const back = await fresh.kernel.execute(
    "JSON.stringify([rows.columns, rows.length, rows[99999], Array.isArray(rows), " +
      "Object.keys(plain).length, plain[99999], proxied.tag, proxied.length])",
  );
  assert.equal(
    back.data?.["text/plain"],
    `'[["i"],100000,{"i":99999},true,100000,99999,"t",30000]'`,
  );
});

Deno.test("a body with an array of numbers as bytes says format 2, others still format 1, and both restore", async () => {
  await using t = await startKernel();
  await t.kernel.execute("let xs = Array.from({ length: 5000 }, (_, i) => i / 3); let n = 1");
  const packed = await t.kernel.snapshot();
  assert.equal(packed.format, 2);
  assert.equal(JSON.parse(packed.body).format, 2);
  // As a kernel before NumberArray wrote it: the numbers in JSON, format 1.
  const old = JSON.parse(packed.body);
  old.format = 1;
  old.data = { json: { xs: Array.from({ length: 5000 }, (_, i) => i / 3), n: 1 } };
  for (const body of [packed.body, JSON.stringify(old)]) {
    await using fresh = await startKernel();
    const report = await fresh.kernel.restore(body);
    assert.deepEqual(report.skipped, []);
    const back = await fresh.kernel.execute("xs.length === 5000 && xs[4999] === 4999 / 3 && n");
    assert.equal(back.data?.["text/plain"], "1");
  }
  await t.kernel.execute("xs = [1, 2, 3]");
  assert.equal((await t.kernel.snapshot()).format, 1);
});

Deno.test("declarations restored in one script are read back for their instances and static fields, and leave `_` alone", async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "class Point { constructor(x) { this.x = x } twice() { return 2 * this.x } }\n" +
      "Point.made = 3\nlet double = (n) => 2 * n\nvar add = new Function('a', 'return a + 1')\n" +
      "const points = [new Point(1), new Point(2)]",
  );
  const taken = await t.kernel.snapshot();
  await using fresh = await startKernel();
  await fresh.kernel.execute("'before'");
  const report = await fresh.kernel.restore(taken.body);
  assert.deepEqual(report.skipped, []);
  assert.deepEqual(
    ["Point", "double", "add", "points"].filter((n) => !report.restored.includes(n)),
    [],
  );
  assert.equal(
    (await fresh.kernel.execute(
      "[_, points[1] instanceof Point, points[1].twice(), Point.made, double(4), add(1)]",
    )).data?.["text/plain"],
    '[ "before", true, 4, 3, 8, 2 ]',
  );
});
