/** Test helper: every kind of value a snapshot must carry, and a check that all came back. */
import assert from "node:assert/strict";

/** A cell defining a variable of every kind a snapshot carries. */
export const DEFINE_EVERYTHING = `
import ms from "npm:ms@2.1.3";
const plain = { a: 1, b: "two", c: [true, null, 3.5] };
const nothing = undefined;
const big = 2n ** 64n;
const when = new Date("2020-01-02T03:04:05.678Z");
const pattern = /ab+c/gi;
const datesByName = new Map([["start", new Date(0)], ["end", new Date(86_400_000)]]);
const tags = new Set(["x", "y"]);
const failure = new TypeError("bad thing");
const link = new URL("https://example.com/p?q=1");
const floats = new Float64Array([1.5, -2.25, Math.PI]);
const bytes = new Uint8Array([1, 2, 255]).buffer;
const shared = { s: 1 };
const pair = [shared, shared];
const cyclic: { name: string; self?: unknown } = { name: "loop" };
cyclic.self = cyclic;
function area(r: number): number { return Math.PI * r * r; }
const double = (n: number) => n * 2;
class Point {
  constructor(public x: number, public y: number) {}
  norm(): number { return Math.hypot(this.x, this.y); }
}
class Point3 extends Point { z = 12; }
const p = new Point(3, 4);
const q = new Point3(5, 12);
var counter = 41;
`;

/** A cell whose result is `"all 19 restored"` when every variable came back intact. */
export const CHECK_EVERYTHING = `const checks = ({
  plain: JSON.stringify(plain) === '{"a":1,"b":"two","c":[true,null,3.5]}',
  nothing: nothing === undefined && Object.keys(globalThis).includes("counter"),
  big: big === 18446744073709551616n,
  when: when instanceof Date && when.toISOString() === "2020-01-02T03:04:05.678Z",
  pattern: pattern instanceof RegExp && pattern.source === "ab+c" && pattern.flags === "gi",
  datesByName: datesByName instanceof Map && datesByName.get("end").getTime() === 86_400_000,
  tags: tags instanceof Set && tags.has("y") && tags.size === 2,
  failure: failure instanceof Error && failure.name === "TypeError" && failure.message === "bad thing",
  link: link instanceof URL && link.searchParams.get("q") === "1",
  floats: floats instanceof Float64Array && floats[2] === Math.PI && floats.length === 3,
  bytes: bytes instanceof ArrayBuffer && new Uint8Array(bytes)[2] === 255,
  shared: pair[0] === pair[1] && pair[0] === shared,
  cyclic: cyclic.self === cyclic,
  area: area(1) === Math.PI,
  double: double(21) === 42,
  point: p instanceof Point && p.norm() === 5,
  subclass: q instanceof Point3 && q instanceof Point && q.norm() === 13 && q.z === 12,
  npm: ms("1h") === 3_600_000,
  counter: counter === 41,
});
const failed = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
failed.length === 0 ? \`all \${Object.keys(checks).length} restored\` : \`not restored: \${failed}\``;

/** Asserts that CHECK_EVERYTHING found every variable intact. */
export function allRestored(result: Record<string, unknown>): void {
  assert.equal(result.status, "ok", JSON.stringify(result.error));
  assert.equal(result.result, '"all 19 restored"');
}
