import assert from "node:assert/strict";
import superjson from "superjson";
import { encode, LISTED } from "../../src/kernel/worker/snapshot_codec.ts";
import { decode, decodeRecord } from "../../src/kernel/worker/snapshot_decode.ts";
import type { ClassTable } from "../../src/kernel/worker/snapshot_format.ts";

class Point {
  constructor(public x: number, public y: number) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}
const CLASSES: ClassTable = {
  nameOf: (c) => c === Point ? "Point" : undefined,
  byName: (n) => n === "Point" ? Point as never : undefined,
};

function roundTrip(root: Record<string, unknown>): Record<string, unknown> {
  const { encoded } = encode(root, CLASSES);
  return decode(JSON.parse(JSON.stringify(encoded)), CLASSES) as Record<string, unknown>;
}

Deno.test("every supported type survives a round trip through JSON text", () => {
  const cyclic: Record<string, unknown> = { name: "c" };
  cyclic.self = cyclic;
  const shared = { s: 1 };
  const value = {
    n: 1.5,
    s: "text",
    b: true,
    nil: null,
    u: undefined,
    big: 2n ** 70n,
    special: [NaN, Infinity, -Infinity, -0],
    date: new Date(1234),
    re: /a.b/gi,
    map: new Map<unknown, unknown>([["k", new Date(5)], [{ key: 1 }, new Set([1n])]]),
    err: new RangeError("bad"),
    url: new URL("https://example.com/x?y=1"),
    f64: new Float64Array([1.5, -2]),
    i64: new BigInt64Array([3n]),
    buf: new Uint8Array([0, 255, 7]).buffer,
    shared1: shared,
    shared2: [shared],
    cyclic,
    point: new Point(3, 4),
    "dotted.key": { "a\\b": 1 },
  };
  const back = roundTrip({ value }).value as typeof value;
  assert.deepEqual(back.special, [NaN, Infinity, -Infinity, -0]);
  assert.ok(Object.is(back.special[3], -0));
  assert.equal(back.big, 2n ** 70n);
  assert.ok("u" in back && back.u === undefined);
  assert.deepEqual(back.date, new Date(1234));
  assert.deepEqual(back.re, /a.b/gi);
  assert.deepEqual([...back.map.keys()][1], { key: 1 });
  assert.deepEqual(back.map.get("k"), new Date(5));
  assert.ok(back.err instanceof Error);
  assert.equal(back.err.name, "RangeError");
  assert.equal(back.err.message, "bad");
  assert.equal(back.url.href, "https://example.com/x?y=1");
  assert.deepEqual(back.f64, new Float64Array([1.5, -2]));
  assert.deepEqual(back.i64, new BigInt64Array([3n]));
  assert.deepEqual(new Uint8Array(back.buf), new Uint8Array([0, 255, 7]));
  assert.equal(back.shared1, back.shared2[0]);
  assert.equal(back.cyclic.self, back.cyclic);
  assert.ok(back.point instanceof Point);
  assert.equal(back.point.norm(), 5);
  assert.deepEqual(back["dotted.key"], { "a\\b": 1 });
});

Deno.test("JSON-safe data is passed to JSON.stringify as it is, without a copy", () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ a: i, b: `r${i}`, c: [1, 2, 3] }));
  const { encoded } = encode({ rows });
  assert.equal((encoded.json as { rows: unknown }).rows, rows);
  assert.equal(encoded.meta, undefined);
});

Deno.test("what cannot be saved is listed by path and reason, and the rest is kept", () => {
  const { encoded, skipped } = encode({
    ok: 1,
    obj: { pending: Promise.resolve(1), weak: new WeakMap(), fine: "yes" },
    sym: Symbol("s"),
  });
  assert.deepEqual(skipped.map((s) => s.path).sort(), ["obj.pending", "obj.weak", "sym"]);
  assert.match(skipped.find((s) => s.path === "obj.pending")!.reason, /Promise cannot be saved/);
  const back = decode(JSON.parse(JSON.stringify(encoded))) as Record<string, { fine?: string }>;
  assert.equal(back.ok, 1);
  assert.equal(back.obj?.fine, "yes");
});

Deno.test("superjson reads what the codec writes, and the codec reads what superjson writes", () => {
  superjson.registerClass(Point, { identifier: "Point" });
  // Typed arrays travel as their bytes: a reader registers the custom type, as for ArrayBuffer.
  superjson.registerCustom<Float64Array, { type: string; base64: string }>({
    isApplicable: (v): v is Float64Array => v instanceof Float64Array,
    serialize: (v) => ({
      type: "Float64Array",
      base64: new Uint8Array(v.buffer, v.byteOffset, v.byteLength).toBase64(),
    }),
    deserialize: (v) => new Float64Array(Uint8Array.fromBase64(v.base64).buffer),
  }, "TypedArray");
  const shared = [1];
  const value = {
    d: new Date(0),
    m: new Map([["k", { d: new Date(1) }]]),
    s: new Set([1n]),
    u: undefined,
    f: new Float64Array([2.5]),
    p: new Point(1, 2),
    a: shared,
    b: { c: shared },
    nan: NaN,
  };
  const ours = JSON.parse(JSON.stringify(encode({ value }, CLASSES).encoded));
  const theirs = superjson.deserialize<{ value: typeof value }>(ours).value;
  assert.deepEqual(theirs.m.get("k"), { d: new Date(1) });
  assert.ok(theirs.p instanceof Point);
  assert.equal(theirs.a, theirs.b.c);
  assert.deepEqual(theirs.f, new Float64Array([2.5]));
  assert.ok(Number.isNaN(theirs.nan));

  const fromSuperjson = decode(superjson.serialize({ value }) as never, CLASSES) as {
    value: typeof value;
  };
  assert.deepEqual(fromSuperjson.value.s, new Set([1n]));
  assert.ok(fromSuperjson.value.p instanceof Point);
  assert.equal(fromSuperjson.value.a, fromSuperjson.value.b.c);
});

Deno.test("a damaged annotation is an error, not a silent wrong value", () => {
  assert.throws(
    () => decode({ json: { x: 1 }, meta: { values: { x: ["no-such-type"] }, v: 1 } } as never),
    { name: "TypeError", message: /Unknown annotation "no-such-type"/ },
  );
});

Deno.test("one variable that fails to decode is reported; the others come back", () => {
  const shared = { s: 1 };
  const { encoded } = encode({
    good: [1, new Date(5)],
    bad: { f: () => 1 },
    both: shared,
    too: shared,
  });
  const text = JSON.stringify(encoded).replace(/"\(\)\s*=>\s*1"/, '"(( broken"');
  const { values, skipped } = decodeRecord(JSON.parse(text));
  assert.deepEqual(Object.keys(values).sort(), ["both", "good", "too"]);
  assert.deepEqual(values.good, [1, new Date(5)]);
  assert.equal(values.too, values.both, "shared references still shared");
  assert.equal(skipped.length, 1);
  assert.equal(skipped[0]?.path, "bad");
  assert.match(skipped[0]?.reason ?? "", /could not be restored/);
});

Deno.test("shorthand methods, getters and setters decode as functions", () => {
  const o = {
    greet(n: string) {
      return `hi ${n}`;
    },
    get size() {
      return 3;
    },
  };
  const getter = Object.getOwnPropertyDescriptor(o, "size")!.get!;
  const { encoded } = encode({ fns: { greet: o.greet, getter } });
  const { values, skipped } = decodeRecord(JSON.parse(JSON.stringify(encoded)));
  assert.deepEqual(skipped, []);
  const fns = values.fns as { greet: (n: string) => string; getter: () => number };
  assert.equal(fns.greet("a"), "hi a");
  assert.equal(fns.getter.call({}), 3);
});

Deno.test("an array keeps its named properties, and paths into it stay valid", () => {
  const shared = { s: 1 };
  const rows = Object.assign([{ when: new Date(3) }, shared, , 4], { columns: ["when"] });
  const { encoded, skipped } = encode({ rows, again: shared, nested: { list: rows.slice(0, 1) } });
  assert.deepEqual(skipped, []);
  const back = decode(JSON.parse(JSON.stringify(encoded))) as {
    rows: typeof rows;
    again: unknown;
  };
  assert.ok(Array.isArray(back.rows));
  assert.equal(back.rows.length, 4);
  assert.deepEqual(back.rows.columns, ["when"]);
  assert.deepEqual(back.rows[0], { when: new Date(3) });
  assert.ok(!(2 in back.rows), "a hole stays a hole");
  assert.equal(back.again, back.rows[1], "a reference into it is shared again");
});

Deno.test("an instance keeping state under a Symbol key or in a hidden property is skipped, by name", () => {
  const NEXT: unique symbol = Symbol("next");
  class Node {
    [NEXT] = null;
  }
  const hidden = Object.defineProperty(new Point(1, 2), "secret", { value: 1 });
  const { skipped } = encode({ node: new Node(), hidden }, CLASSES);
  assert.deepEqual(skipped.map((s) => s.path), ["node", "hidden"]);
  assert.match(skipped[0]!.reason, /an instance of Node keeps state under 1 Symbol key/);
  assert.match(skipped[1]!.reason, /in non-enumerable properties \(secret\)/);
  const inherited = encode({ child: Object.create({ base: 1 }) }).skipped;
  assert.match(inherited[0]!.reason, /an object whose prototype is another plain object/);
});

Deno.test("functions and instances are listed by path up to LISTED, the rest counted", () => {
  const fns = Array.from({ length: LISTED + 2 }, (_, i) => new Function(`return ${i}`));
  const { functions, instances, unlisted } = encode({ fns, p: new Point(1, 1) }, CLASSES);
  assert.equal(functions.length, LISTED);
  assert.equal(functions[1]!.path, "fns[1]");
  assert.deepEqual(instances.map((i) => i.path), ["p"], "each kind has its own list");
  assert.deepEqual(unlisted, { count: 2, first: `fns[${LISTED}]` });
});

Deno.test("a typed array is carried as its bytes in base64, about 1.33 times its size, and comes back equal", () => {
  const floats = Float64Array.from({ length: 10_000 }, (_, i) => i / 3);
  const ints = new Int16Array([1, -2, 3]);
  const view = new Uint8Array(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2);
  const { encoded } = encode({ floats, ints, view });
  const text = JSON.stringify(encoded);
  assert.ok(text.length < floats.byteLength * 1.4, `${text.length} characters`);
  const back = decode(JSON.parse(text)) as {
    floats: Float64Array;
    ints: Int16Array;
    view: Uint8Array;
  };
  assert.deepEqual(back.floats, floats);
  assert.deepEqual(back.ints, ints);
  assert.deepEqual([...back.view], [8, 7]);
});

Deno.test("Maps and Sets whose keys and items are shared with other variables keep every entry, in order", () => {
  const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
  const days = [new Date(1), new Date(2)];
  const record = {
    rows,
    days,
    byRow: new Map<unknown, unknown>([[rows[0], "a"], [rows[1], "b"], ["plain", rows[2]]]),
    byDay: new Map([[days[0], [rows[0], rows[2]]], [days[1], [rows[1]]]]),
    picked: new Set([rows[2], rows[0], null]),
    nested: new Map([["inner", new Set([rows[1], rows[0]])]]),
  };
  const check = (back: typeof record) => {
    const [r0, r1, r2] = back.rows;
    assert.deepEqual([...back.byRow.keys()], [r0, r1, "plain"]);
    assert.equal(back.byRow.get(r1), "b");
    assert.equal(back.byRow.get("plain"), r2);
    assert.deepEqual([...back.byDay.keys()], back.days);
    assert.equal(back.byDay.get(back.days[0])![1], r2);
    assert.deepEqual([...back.picked], [r2, r0, null]);
    assert.deepEqual([...(back.nested.get("inner") as Set<unknown>)], [r1, r0]);
  };
  check(roundTrip(record) as typeof record);
  const { encoded } = encode(record);
  const { values, skipped } = decodeRecord(JSON.parse(JSON.stringify(encoded)));
  assert.deepEqual(skipped, []);
  check(values as typeof record);
});

Deno.test("20,000 Map entries whose values are shared rows all come back, each the same row", () => {
  const rows = Array.from({ length: 20_000 }, (_, id) => ({ id }));
  const { encoded } = encode({ rows, index: new Map(rows.map((r) => [r.id, r])) });
  // (It took about 50 s while each reference into the Map copied it; `deno task bench` has the
  // figure for 100,000 rows.)
  const { values } = decodeRecord(JSON.parse(JSON.stringify(encoded)));
  const index = values.index as Map<number, unknown>;
  const back = values.rows as unknown[];
  assert.equal(index.size, 20_000);
  assert.ok(back.every((row, i) => index.get(i) === row));
});

Deno.test("a table that cannot be grouped again at restore is reported by name; the others come back", () => {
  /** Just enough of an arquero table: grouped, and refusing to group again once restored. */
  class FakeTable {
    _group: unknown = { names: ["g"] };
    _data = { g: ["a"] };
    isOrdered = () => false;
    isFiltered = () => false;
    isGrouped = () => this._group !== null;
    groups = () => this._group as { names: string[] };
    ungroup = () => Object.assign(new FakeTable(), { _group: null });
    reify = () => this;
    columnNames = () => ["g"];
    groupby = (): never => {
      throw new Error("no such column");
    };
  }
  const classes: ClassTable = {
    nameOf: (c) => c === FakeTable ? "FakeTable" : undefined,
    byName: (n) => n === "FakeTable" ? FakeTable as never : undefined,
  };
  const { encoded } = encode({ grouped: new FakeTable(), other: 1 }, classes);
  const { values, skipped } = decodeRecord(JSON.parse(JSON.stringify(encoded)), classes);
  assert.deepEqual(Object.keys(values), ["other"]);
  assert.equal(skipped[0]?.path, "grouped");
  assert.match(skipped[0]?.reason ?? "", /could not be restored: no such column/);
});

Deno.test("a long array of numbers goes as its Float64 bytes and comes back exactly; integers, short arrays and holes stay JSON", () => {
  const floats = Array.from({ length: 2000 }, (_, i) => i / 7);
  floats[3] = -0;
  floats[4] = NaN;
  floats[5] = -Infinity;
  const ints = Array.from({ length: 2000 }, (_, i) => i);
  const short = [0.5, 1.5];
  const holey = Array.from({ length: 2000 }, (_, i) => i / 3);
  delete holey[7];
  const value = { floats, again: floats, ints, short, holey };
  const { encoded, packed } = encode({ value });
  assert.equal(packed, true);
  const json = (encoded.json as { value: Record<string, unknown> }).value;
  assert.equal(typeof json.floats, "string", "the floats are one base64 string");
  assert.ok(Array.isArray(json.ints) && Array.isArray(json.short) && Array.isArray(json.holey));
  const back = decode(JSON.parse(JSON.stringify(encoded))) as { value: typeof value };
  assert.ok(Array.isArray(back.value.floats));
  assert.ok(Object.is(back.value.floats[3], -0));
  assert.ok(Number.isNaN(back.value.floats[4]));
  assert.deepEqual(back.value.floats, floats);
  assert.equal(back.value.again, back.value.floats, "a shared array stays shared");
  assert.deepEqual(back.value.ints, ints);
  assert.equal(back.value.holey[7], undefined);
  assert.equal(back.value.holey[8], 8 / 3);
  assert.equal(encode({ ints, short }).packed, false);
});

Deno.test("with segments, bytes go beside the JSON, by index, and come back as they were", () => {
  const floats = Array.from({ length: 2000 }, (_, i) => i / 7);
  const whole = new Int16Array([1, -2, 3, -4, 5]);
  const bytes = new Uint8Array([9, 8, 7, 6, 5, 4]);
  const root = {
    f64: new Float64Array([1.5, -0, NaN, Infinity]),
    i64: new BigUint64Array([2n ** 64n - 1n]),
    // A view into part of a larger buffer: only its own bytes travel.
    part: bytes.subarray(1, 4),
    buf: new Uint8Array([0, 255, 7]).buffer,
    view: new DataView(new Uint8Array([1, 2, 3, 4, 5]).buffer, 1, 3),
    floats,
    same: [whole, whole],
  };
  const segments: Uint8Array[] = [];
  const { encoded, packed } = encode(root, CLASSES, undefined, undefined, segments);
  assert.ok(packed);
  const text = JSON.stringify(encoded);
  assert.ok(!/base64/.test(text), "no base64 in the JSON");
  assert.ok(text.length < 2000, `the JSON holds no bytes (${text.length} characters)`);
  assert.deepEqual(segments.map((s) => s.length), [32, 8, 3, 3, 3, 16_000, 10]);
  // Each segment a copy of its own, aligned as the body lays them out.
  const laid = segments.map((s) => {
    const copy = new Uint8Array(new ArrayBuffer(s.length + 8), 8, s.length);
    copy.set(s);
    return copy;
  });
  const { values, skipped } = decodeRecord(JSON.parse(text), CLASSES, laid);
  assert.deepEqual(skipped, []);
  const back = values as typeof root;
  assert.deepEqual(back.f64, root.f64);
  assert.ok(Object.is(back.f64[1], -0));
  assert.deepEqual(back.i64, root.i64);
  assert.deepEqual(back.part, new Uint8Array([8, 7, 6]));
  assert.equal(back.part.buffer.byteLength, 3, "a view comes back owning just its bytes");
  assert.deepEqual(new Uint8Array(back.buf), new Uint8Array([0, 255, 7]));
  assert.deepEqual([back.view.byteLength, back.view.getUint8(0)], [3, 2]);
  assert.deepEqual(back.floats, floats);
  assert.equal(back.same[0], back.same[1], "a shared typed array stays shared");
  // The restored arrays own their bytes: changing one leaves the body's segments as they were.
  back.f64[0] = 99;
  assert.equal(new Float64Array(laid[0]!.slice().buffer)[0], 1.5);
});

/** Encodes `root` with segments and decodes it from a copy of its text and of its segments. */
function segmentTrip(root: Record<string, unknown>) {
  const segments: Uint8Array[] = [];
  const encoded = encode(root, CLASSES, undefined, undefined, segments);
  const laid = segments.map((s) => s.slice());
  const decoded = decodeRecord(JSON.parse(JSON.stringify(encoded.encoded)), CLASSES, laid);
  // What the save reported, then what the restore did.
  const skipped = [...encoded.skipped, ...decoded.skipped];
  return { ...encoded, segments, values: decoded.values, skipped };
}

Deno.test("with segments, views over one ArrayBuffer come back over one buffer, each at its offset", () => {
  const buf = new ArrayBuffer(16);
  const alone = new Float64Array([1.5, 2.5]);
  const root = {
    buf,
    bytes: new Uint8Array(buf),
    view: new DataView(buf),
    words: new Uint32Array(buf, 4, 2),
    tail: new DataView(buf, 12),
    // A typed array and its buffer, each in a variable of its own.
    alone,
    aloneBuffer: alone.buffer,
  };
  const { values, skipped, segments, views } = segmentTrip(root);
  assert.deepEqual(skipped, []);
  assert.ok(views, "the body says it holds views sharing a buffer");
  assert.deepEqual(segments.map((s) => s.length), [16, 16], "each buffer carried once, whole");
  const back = values as typeof root;
  assert.equal(back.bytes.buffer, back.buf);
  assert.equal(back.view.buffer, back.buf);
  assert.equal(back.words.buffer, back.buf);
  assert.equal(back.tail.buffer, back.buf);
  assert.deepEqual([back.words.byteOffset, back.words.length], [4, 2]);
  assert.deepEqual([back.tail.byteOffset, back.tail.byteLength], [12, 4]);
  assert.deepEqual([back.view.byteOffset, back.view.byteLength], [0, 16]);
  back.view.setUint8(10, 77);
  assert.equal(back.bytes[10], 77, "a write through one view is read through another");
  back.tail.setUint8(0, 5);
  assert.equal(back.bytes[12], 5);
  back.words[0] = 0x01020304;
  assert.equal(back.view.getUint32(4, true), 0x01020304);
  assert.equal(back.alone.buffer, back.aloneBuffer);
  assert.deepEqual([...back.alone], [1.5, 2.5]);
});

Deno.test("with segments, a view alone over part of a large buffer carries only its bytes", () => {
  const huge = new Uint8Array(1 << 20);
  huge.set([1, 2, 3], 500_000);
  const { values, segments, views } = segmentTrip({ part: huge.subarray(500_000, 500_003) });
  assert.equal(views, false, "nothing shares a buffer: the body stays readable by older kernels");
  assert.deepEqual(segments.map((s) => s.length), [3]);
  const part = values.part as Uint8Array;
  assert.deepEqual([...part], [1, 2, 3]);
  assert.deepEqual([part.byteOffset, part.buffer.byteLength], [0, 3]);
});

Deno.test("a transferred ArrayBuffer, and a view over it, are named in the report; the rest is kept", () => {
  const moved = new ArrayBuffer(8);
  const over = new Uint8Array(moved, 2, 4);
  structuredClone(moved, { transfer: [moved] });
  const kept = new Uint8Array(new ArrayBuffer(4), 1, 2);
  for (const withSegments of [true, false]) {
    const root = { moved, over, kept, n: 1 };
    const { values, skipped } = withSegments
      ? segmentTrip(root)
      : { ...encode(root, CLASSES), values: undefined };
    const reasons = Object.fromEntries(skipped.map((s) => [s.path, s.reason]));
    assert.deepEqual(Object.keys(reasons).sort(), ["moved", "over"]);
    assert.match(reasons.over!, /transferred \(detached\)/);
    if (values) assert.deepEqual([[...(values.kept as Uint8Array)], values.n], [[0, 0], 1]);
  }
});

Deno.test("a SharedArrayBuffer, and a view over one, are named in the report", () => {
  const sab = new SharedArrayBuffer(8);
  const flags = new Int32Array(new SharedArrayBuffer(8));
  flags[1] = 7;
  const { values, skipped } = segmentTrip({ sab, flags });
  const reasons = Object.fromEntries(skipped.map((s) => [s.path, s.reason]));
  assert.match(reasons.sab ?? "", /SharedArrayBuffer cannot be saved/);
  assert.match(reasons.flags ?? "", /plain ArrayBuffer.*SharedArrayBuffer/);
  assert.deepEqual([...(values.flags as Int32Array)], [0, 7]);
});

Deno.test("a value naming a segment the body lacks is reported, the others come back", () => {
  const segments: Uint8Array[] = [];
  const { encoded } = encode(
    { a: new Float32Array([1]), n: 5 },
    CLASSES,
    undefined,
    undefined,
    segments,
  );
  const { values, skipped } = decodeRecord(JSON.parse(JSON.stringify(encoded)), CLASSES, []);
  assert.equal(values.n, 5);
  assert.equal(skipped.length, 1);
  assert.match(skipped[0]!.reason, /no byte segment 0/);
});

Deno.test("an array whose elements carry the same annotations carries them once, and comes back as it was", () => {
  const day = (i: number) => new Date(Date.UTC(2026, 0, 1 + i));
  const rows = Array.from(
    { length: 100 },
    (_, i) => ({ id: i, day: day(i), n: i % 3 ? 1 : undefined }),
  );
  const even = Array.from({ length: 100 }, (_, i) => ({ id: i, day: day(i) }));
  const dates = Array.from({ length: 100 }, (_, i) => day(i));
  const points = Array.from({ length: 100 }, (_, i) => new Point(i, i));
  const nested = Array.from(
    { length: 70 },
    () => ({ at: dates.slice(0, 64).map((d) => new Date(d)) }),
  );
  const { encoded } = encode({ even, dates, points, nested }, CLASSES);
  assert.deepEqual(encoded.meta?.values, {
    even: ["each", { "*.day": ["Date"] }],
    dates: ["each", { "*": ["Date"] }],
    points: ["each", { "*": [["class", "Point"]] }],
    nested: ["each", { "*.at": ["each", { "*": ["Date"] }] }],
  });
  // A Date is its time in ms: `new Date` reads it as superjson's ISO text.
  assert.equal((encoded.json as { dates: unknown[] }).dates[3], day(3).getTime());

  // Elements that differ (here every third lacks `n`'s annotation) are annotated one by one.
  const mixed = encode({ rows }, CLASSES).encoded.meta?.values as Record<string, unknown>;
  assert.deepEqual(mixed["rows.0.n"], ["undefined"]);
  assert.deepEqual(mixed["rows.1.day"], ["Date"]);
  assert.equal(mixed["rows.1.n"], undefined);

  const back = roundTrip({ rows, even, dates, points, nested });
  assert.deepEqual(back.rows, rows);
  assert.deepEqual(back.even, even);
  assert.deepEqual(back.dates, dates);
  assert.ok(
    (back.points as Point[]).every((p, i) => p instanceof Point && p.norm() === Math.hypot(i, i)),
  );
  assert.deepEqual(back.nested, nested);
});

Deno.test("an array's shared annotations give way where an element differs: a primitive, a shared row, a Map, an odd key", () => {
  const shared = { day: new Date(5) };
  const withPrimitive: unknown[] = Array.from({ length: 80 }, (_, i) => ({ day: new Date(i) }));
  withPrimitive[70] = "not a row";
  const withShared = Array.from({ length: 80 }, (_, i) => i === 75 ? shared : { day: new Date(i) });
  const withMaps = Array.from({ length: 80 }, (_, i) => ({ m: new Map([[i, new Date(i)]]) }));
  // Keys a path could confuse with the element itself or its index.
  const oddKeys = Array.from({ length: 80 }, (_, i) => ({ "": new Date(i), "*": new Date(-i) }));
  const back = roundTrip({ shared, withPrimitive, withShared, withMaps, oddKeys });
  assert.deepEqual(back.withPrimitive, withPrimitive);
  assert.deepEqual(back.withShared, withShared);
  assert.equal((back.withShared as unknown[])[75], back.shared, "the shared row stays shared");
  assert.deepEqual(back.withMaps, withMaps);
  assert.deepEqual(back.oddKeys, oddKeys);
  const values = encode({ oddKeys }).encoded.meta?.values;
  assert.deepEqual(values, { oddKeys: ["each", { "*.": ["Date"], "*.*": ["Date"] }] });
});
