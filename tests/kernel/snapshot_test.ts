import assert from "node:assert/strict";
import { bodyHead, bodyParts } from "../../src/kernel/worker/snapshot_body.ts";
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

Deno.test("a body with bytes says format 3 and carries them raw; format 2 and 1 bodies still restore", async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "let xs = Array.from({ length: 5000 }, (_, i) => i / 3); let n = 1;\n" +
      "let f = new Float64Array(100_000).map((_, i) => i / 7)",
  );
  const binary = await t.kernel.snapshot();
  assert.equal(binary.format, 3);
  const parts = bodyParts(binary.body);
  assert.equal(parts.format, 3);
  assert.deepEqual(parts.segments.map((s) => s.length), [40_000, 800_000]);
  // The bytes and a little JSON: nothing in base64.
  assert.ok(binary.body.length < 840_000 + 2_000, `${binary.body.length} bytes`);
  const json = JSON.parse(new TextDecoder().decode(parts.json));
  assert.equal(json.format, 3);
  // As a kernel before byte segments wrote it: format 2, the bytes in base64.
  const packed = structuredClone(json);
  packed.format = 2;
  packed.data.json.xs = parts.segments[0]!.toBase64();
  packed.data.json.f = { type: "Float64Array", base64: parts.segments[1]!.toBase64() };
  // As a kernel before NumberArray wrote it: the numbers in JSON, format 1.
  const old = structuredClone(packed);
  old.format = 1;
  old.data.json.xs = Array.from({ length: 5000 }, (_, i) => i / 3);
  delete old.data.meta.values.xs;
  const utf8 = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  for (const body of [binary.body, utf8(packed), utf8(old)]) {
    await using fresh = await startKernel();
    const report = await fresh.kernel.restore(body);
    assert.deepEqual(report.skipped, []);
    const back = await fresh.kernel.execute(
      "xs.length === 5000 && xs[4999] === 4999 / 3 && f instanceof Float64Array && " +
        "f.length === 100_000 && f[99_999] === 99_999 / 7 && f.buffer.byteLength === 800_000 && n",
    );
    assert.equal(back.data?.["text/plain"], "1");
  }
  await t.kernel.execute("xs = [1, 2, 3]; f = null");
  const plain = await t.kernel.snapshot();
  assert.equal(plain.format, 1);
  assert.equal(JSON.parse(new TextDecoder().decode(plain.body)).format, 1);
});

Deno.test("rows with a Date column say format 4 and come back, Dates and all; a body with bytes too", async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "const rows = Array.from({ length: 20_000 }, (_, i) => ({ id: i, day: new Date(Date.UTC(2026, 0, 1 + i % 365)) }));\n" +
      "class Reading { constructor(at, v) { this.at = at; this.v = v } hour() { return this.at.getUTCHours() } }\n" +
      "const readings = rows.slice(0, 500).map((r, i) => new Reading(new Date(r.day.getTime() + i * 3_600_000), i / 2));\n" +
      "const weights = new Float64Array(1000).fill(0.5)",
  );
  const taken = await t.kernel.snapshot();
  assert.equal(taken.format, 4);
  const json = JSON.parse(new TextDecoder().decode(bodyParts(taken.body).json));
  assert.equal(json.format, 4);
  assert.deepEqual(json.data.meta.values.rows, ["each", { "*.day": ["Date"] }]);
  await using fresh = await startKernel();
  const report = await fresh.kernel.restore(taken.body);
  assert.deepEqual(report.skipped, []);
  const back = await fresh.kernel.execute(
    "rows.length === 20_000 && rows.every((r, i) => r.day instanceof Date && r.day.getTime() === Date.UTC(2026, 0, 1 + i % 365)) && " +
      "readings.every((r, i) => r instanceof Reading && r.hour() === i % 24) && weights[999] === 0.5",
  );
  assert.equal(back.data?.["text/plain"], "true");
});

Deno.test("a kernel refuses a body of a later format by its number, binary or JSON", async () => {
  await using t = await startKernel();
  const later = bodyHead([]);
  new DataView(later.buffer).setUint32(4, 4, true);
  await assert.rejects(t.kernel.restore(later), /Cannot restore snapshot format 4; expected 1/);
  const json = new TextEncoder().encode(JSON.stringify({ format: 9, data: {} }));
  await assert.rejects(t.kernel.restore(json), /Cannot restore snapshot format 9; expected 1/);
  // Still usable.
  assert.equal((await t.kernel.execute("1 + 1")).data?.["text/plain"], "2");
});

Deno.test("a cell writing to stdout while a body with bytes is saved changes none of its bytes", async () => {
  await using t = await startKernel();
  // A timer that writes, as fast as it can, what a bytes frame looks like without the token
  // (a flag, a length, newlines): it runs during the save's awaits and after the Worker's last
  // piece, while the sandbox still writes the body's frames to the same pipe.
  await t.kernel.execute(
    "const f = new Float64Array(1_000_000).map((_, i) => i * 1.5);\n" +
      "const noise = new Uint8Array(5000).map((_, i) => [0x3d, 0x2d, 0x0a, 0xff][i % 4]);\n" +
      "let writes = 0;\n" +
      "const spam = setInterval(() => { for (let i = 0; i < 20; i++) { Deno.stdout.writeSync(noise); writes++; } }, 0);",
  );
  const taken = await t.kernel.snapshot();
  const wrote = await t.kernel.execute("clearInterval(spam); writes");
  assert.ok(Number(wrote.data?.["text/plain"]) > 0, "the timer wrote during the save");
  const [segment] = bodyParts(taken.body).segments;
  const floats = new Float64Array(segment!.slice().buffer);
  assert.equal(floats.length, 1_000_000);
  assert.ok(floats.every((x, i) => x === i * 1.5), "the body's bytes are the array's");
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

Deno.test("views sharing one ArrayBuffer share it after a restore, at their offsets", async () => {
  await using t = await startKernel();
  await t.kernel.execute(
    "const buf = new ArrayBuffer(16); const bytes = new Uint8Array(buf); " +
      "const view = new DataView(buf); const words = new Uint32Array(buf, 4, 2); " +
      "const lone = new Int16Array([1, 2]); const loneBuffer = lone.buffer",
  );
  const probe = "view.setUint8(10, 77); words[0] = 9; " +
    "[bytes[10], bytes[4], words.byteOffset, words.buffer === bytes.buffer, " +
    "view.buffer === buf, lone.buffer === loneBuffer]";
  const taken = await t.kernel.snapshot();
  assert.deepEqual(taken.skipped, []);
  assert.equal(taken.format, 5, "a body whose views share a buffer says so, for older kernels");
  await using fresh = await startKernel();
  const report = await fresh.kernel.restore(taken.body);
  assert.deepEqual(report.skipped, []);
  assert.equal(
    (await fresh.kernel.execute(probe)).data?.["text/plain"],
    "[ 77, 9, 4, true, true, true ]",
  );
});
