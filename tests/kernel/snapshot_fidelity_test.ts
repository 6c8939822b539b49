/**
 * What a restore gives back beyond plain data, checked in a real kernel after a real snapshot:
 * errors keep their class, cause and properties; classes keep their static fields and functions
 * their own properties; what cannot be carried is named, never dropped unseen.
 */
import assert from "node:assert/strict";
import { startKernel } from "./_kernel.ts";

async function roundTrip(setup: string, check: string) {
  await using t = await startKernel();
  const ran = await t.kernel.execute(setup);
  assert.equal(ran.status, "ok", JSON.stringify(ran.error));
  const taken = await t.kernel.snapshot();
  await using fresh = await startKernel();
  const report = await fresh.kernel.restore(taken.body);
  const r = await fresh.kernel.execute(check);
  assert.equal(r.status, "ok", JSON.stringify(r.error));
  return { saved: taken.skipped, restored: report.skipped, result: r.data?.["text/plain"] };
}

Deno.test("errors keep their class, cause, own properties and an AggregateError's errors", async () => {
  const { saved, restored, result } = await roundTrip(
    `class HttpError extends Error {
       constructor(status, cause) { super("HTTP " + status, { cause }); this.status = status; }
     }
     const range = new RangeError("too big");
     const failed = new HttpError(503, { at: new Date(7), retry: 2n });
     const all = new AggregateError([new TypeError("t"), failed], "both");`,
    `JSON.stringify([range instanceof RangeError, range.message,
       failed instanceof HttpError, failed instanceof Error, failed.status, failed.message,
       failed.cause.at instanceof Date, typeof failed.cause.retry,
       all instanceof AggregateError, all.errors[0] instanceof TypeError, all.errors[1] === failed])`,
  );
  assert.deepEqual(saved, []);
  assert.deepEqual(restored, []);
  assert.equal(
    result,
    `'[true,"too big",true,true,503,"HTTP 503",true,"bigint",true,true,true]'`,
  );
});

Deno.test("a class keeps its static fields, shared with variables, and a function its properties", async () => {
  const { saved, restored, result } = await roundTrip(
    `class Registry {
       static items = [];
       static count = 0;
       static size = () => Registry.items.length;
       static add(x) { Registry.count++; Registry.items.push(x); return x; }
     }
     const first = Registry.add({ id: 1 });
     Registry.add({ id: 2 });
     Registry.note = "set later";
     function memo(n) { return (memo.cache[n] ??= n * 2); }
     memo.cache = {};
     memo(3);
     memo(4);`,
    `JSON.stringify([Registry.count, Registry.items, Registry.items[0] === first, Registry.size(),
       Registry.note, memo.cache, memo(5), typeof Registry.add])`,
  );
  assert.deepEqual(saved, []);
  assert.deepEqual(restored, []);
  assert.equal(
    result,
    `'[2,[{"id":1},{"id":2}],true,2,"set later",{"3":6,"4":8,"5":10},10,"function"]'`,
  );
});

Deno.test("what a restore cannot carry is named: Symbol keys of a plain object, a native error class, an Array subclass", async () => {
  const { saved, result } = await roundTrip(
    `const tagged = { [Symbol("id")]: 1, kept: 2 };
     const native = new DOMException("gone", "AbortError");
     class Rows extends Array { total() { return this.reduce((a, b) => a + b, 0); } }
     const rows = Rows.from([1, 2]);`,
    `JSON.stringify([tagged, native instanceof Error, native.message, Array.isArray(rows), rows])`,
  );
  assert.equal(result, `'[{"kept":2},true,"gone",true,[1,2]]'`);
  const reasons = Object.fromEntries(saved.map((s) => [s.path, s.reason]));
  assert.match(
    reasons.tagged ?? "",
    /its 1 Symbol-keyed property \(Symbol\(id\)\) cannot be saved/,
  );
  assert.match(reasons.native ?? "", /restored as an Error .*its class DOMException/);
  assert.match(reasons.rows ?? "", /restored as a plain Array: its class Rows/);
});

Deno.test("Intl formatters, a Locale, text codecs, URLSearchParams and DataViews come back working", async () => {
  const { saved, restored, result } = await roundTrip(
    `const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
     const day = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" });
     const words = new Intl.Segmenter("en", { granularity: "word" });
     const sv = new Intl.Locale("sv-SE");
     const enc = new TextEncoder();
     const dec = new TextDecoder("utf-16le", { fatal: true });
     const query = new URLSearchParams("a=1&b=two");
     const view = new DataView(new ArrayBuffer(16), 4, 8);
     view.setFloat64(0, 2.5);
     const held = { usd, views: [view] };`,
    `JSON.stringify([usd.format(1234.5), day.format(new Date(0)),
       [...words.segment("two words")].length, String(sv), enc.encode("hé").length,
       dec.encoding, dec.fatal, String(query), view.getFloat64(0), view.byteLength,
       held.usd === usd, held.views[0] === view])`,
  );
  assert.deepEqual(saved, []);
  assert.deepEqual(restored, []);
  assert.equal(
    result,
    `'["$1,234.50","1 Jan 1970",3,"sv-SE",3,"utf-16le",true,"a=1&b=two",2.5,8,true,true]'`,
  );
});

Deno.test("a dictionary made with Object.create(null) stays one, with what it holds", async () => {
  const { saved, restored, result } = await roundTrip(
    `const counts = Object.create(null);
     for (const w of "a b a constructor".split(" ")) counts[w] = (counts[w] ?? 0) + 1;
     counts.when = new Date(5);
     const nested = { byWord: counts, list: [Object.assign(Object.create(null), { n: 1n })] };`,
    `JSON.stringify([Object.getPrototypeOf(counts), counts.a, counts.constructor,
       "toString" in counts, counts.when instanceof Date, nested.byWord === counts,
       Object.getPrototypeOf(nested.list[0]), typeof nested.list[0].n])`,
  );
  assert.deepEqual(saved, []);
  assert.deepEqual(restored, []);
  assert.equal(result, `'[null,2,1,false,true,true,null,"bigint"]'`);
});

Deno.test("a typed array subclass keeps its class (node's Buffer); a Map or Date subclass is named", async () => {
  const { saved, restored, result } = await roundTrip(
    `import { Buffer } from "node:buffer";
     const greeting = Buffer.from("hello");
     class Pixels extends Uint8ClampedArray { brightest() { return Math.max(...this); } }
     const pixels = new Pixels([3, 250, 7]);
     class Counts extends Map {}
     const counts = new Counts([["x", 2]]);
     class Stamp extends Date {}
     const stamp = new Stamp(5);`,
    `JSON.stringify([greeting instanceof Buffer, greeting.toString("base64"),
       pixels instanceof Pixels, pixels.brightest(), counts.get("x"), stamp.getTime()])`,
  );
  assert.deepEqual(restored, []);
  assert.equal(result, `'[true,"aGVsbG8=",true,250,2,5]'`);
  assert.deepEqual(saved.map((s) => s.path), ["counts", "stamp"]);
  assert.match(saved[0]!.reason, /restored as a plain Map: its class Counts/);
  assert.match(saved[1]!.reason, /restored as a plain Date: its class Stamp/);
});

Deno.test("an ordered, filtered or grouped arquero table shows the same rows after a restore, grouped again", async () => {
  const { saved, restored, result } = await roundTrip(
    `import * as aq from "npm:arquero@7";
     const sales = aq.table({ region: ["n", "s", "n", "e", "s"], amount: [5, 3, 9, 1, 4] });
     const sorted = sales.orderby(aq.desc("amount"));
     const big = sales.filter((d) => d.amount > 3);
     const byRegion = sales.groupby("region");
     const sortedGroups = sales.groupby("region").orderby("amount");`,
    `JSON.stringify([sorted.objects().map((d) => d.amount), big.numRows(),
       byRegion.isGrouped(), byRegion.rollup({ total: aq.op.sum("amount") }).orderby("region").objects(),
       sortedGroups.objects().map((d) => d.amount), sortedGroups.groups().names,
       sales.numRows()])`,
  );
  assert.deepEqual(saved, []);
  assert.deepEqual(restored, []);
  assert.equal(
    result,
    `'[[9,5,4,3,1],3,true,[{"region":"e","total":1},{"region":"n","total":14},{"region":"s","total":7}],[1,3,4,5,9],["region"],5]'`,
  );
});

Deno.test("d3's InternMap and InternSet come back as themselves: keys found by value, shared with rows", async () => {
  const { saved, restored, result } = await roundTrip(
    `import * as d3 from "npm:d3-array@3";
     const rows = [1, 2, 1, 3].map((d, i) => ({ day: new Date(d * 86_400_000), v: i }));
     const byDay = d3.group(rows, (r) => r.day);
     const totals = d3.rollup(rows, (v) => d3.sum(v, (r) => r.v), (r) => r.day);
     const days = new d3.InternSet(rows.map((r) => r.day));`,
    `JSON.stringify([byDay instanceof d3.InternMap, byDay.size, byDay.get(new Date(86_400_000)).length,
       byDay.get(rows[2].day)[1] === rows[2], totals.get(new Date(86_400_000)),
       days instanceof d3.InternSet, days.size, days.has(new Date(3 * 86_400_000))])`,
  );
  assert.deepEqual(saved, []);
  assert.deepEqual(restored, []);
  assert.equal(result, '"[true,3,2,true,2,true,3,true]"');
});

Deno.test("an object made by a module's factory whose prototype it shares (dayjs) keeps its methods", async () => {
  const { saved, restored, result } = await roundTrip(
    `import dayjs from "npm:dayjs@1";
     const due = dayjs("2024-03-05T12:00:00Z");`,
    `due.add(1, "day").toISOString()`,
  );
  assert.deepEqual(saved, []);
  assert.deepEqual(restored, []);
  assert.equal(result, '"2024-03-06T12:00:00.000Z"');
});
