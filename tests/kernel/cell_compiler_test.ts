import assert from "node:assert/strict";
import { compileCell } from "../../src/kernel/cell_compiler.ts";
import { INTERRUPT_CHECK, withoutChecks } from "../../src/kernel/worker/cell_interrupt.ts";

/** The compiled cell without its prefix line. */
function compiled(source: string): string {
  const r = compileCell(source);
  assert.ok(r.ok, JSON.stringify(r));
  assert.match(
    r.code,
    /^globalThis\[Symbol\.for\("mcp-kernel-host\.cell"\)\]\(\(\)=>\{\},\{.*\}\);\n/,
  );
  return r.code.slice(r.code.indexOf("\n") + 1);
}

Deno.test("the prefix line records how each top-level binding is declared", () => {
  const r = compileCell(
    'let a = 1, { b, c: [d, ...e] } = x; const f = 2; var g; function h() {}\nclass I {}\nimport j, { k as l } from "npm:m"; export const m = 3; { let inner = 1 }',
  );
  assert.ok(r.ok);
  const kinds = JSON.parse(r.code.slice(r.code.indexOf("{},") + 3, r.code.indexOf(");\n")));
  assert.deepEqual(kinds, {
    a: "let",
    b: "let",
    d: "let",
    e: "let",
    f: "const",
    g: "var",
    h: "function",
    I: "class",
    j: "const",
    l: "const",
    m: "const",
  });
});

Deno.test("strip-only compilation keeps every line and column in place", () => {
  const source =
    "const a: number = 1;\ninterface I { x: string }\nfunction f<T>(v: T): T { return v }\nf(a)";
  const code = compiled(source);
  assert.equal(code.length, source.length);
  assert.equal(code.split("\n").length, source.split("\n").length);
  assert.equal(code.indexOf("f(a)"), source.indexOf("f(a)"));
});

Deno.test("import declarations become const bindings through the kernel's loader", () => {
  const code = compiled(
    'import d, { a, b as c, "x y" as z } from "npm:m";\nimport * as ns from "./n.ts";\nimport "./side.ts";\nd',
  );
  const lines = code.split("\n");
  assert.equal(lines.length, 4);
  assert.match(
    lines[0] ?? "",
    /^const \{ default: d, a, b: c, "x y": z \} = await .*\.bind\("npm:m", \[\["d","default"\],\["a","a"\],\["c","b"\],\["z","x y"\]\]\);$/,
  );
  assert.match(lines[1] ?? "", /^const ns = await .*\.bind\("\.\/n\.ts", \[\["ns","\*"\]\]\);$/);
  assert.match(lines[2] ?? "", /^await .*\.import\("\.\/side\.ts"\);$/);
  assert.equal(lines[3], "d");
});

Deno.test("a multi-line import keeps the lines after it where they were", () => {
  const code = compiled('import {\n  a,\n  b,\n} from "npm:m";\nboom()');
  assert.equal(code.split("\n")[4], "boom()");
});

Deno.test("import attributes and dynamic import() go through the loader", () => {
  const code = compiled(
    'import data from "./d.json" with { type: "json" };\nconst m = await import("npm:x");',
  );
  assert.match(
    code,
    /bind\("\.\/d\.json", \[\["data","default"\]\], \{ with: \{ type: "json" \} \}\)/,
  );
  assert.match(
    code,
    /const m = __mkhAwake\(__mkhAt\(\),await globalThis\[Symbol\.for\("mcp-kernel-host\.loader"\)\]\.import\("npm:x"\)\);/,
  );
});

Deno.test("a cell's top-level awaits are checked when they resume; its functions' are not", () => {
  const code = compiled(
    "const a = await f() + 1;\nwhile (go) await step();\nfor (;;) { await tick(); }\n" +
      "async function g() { await h() }\nconst k = async () => await h();",
  );
  const lines = code.split("\n");
  assert.equal(lines[0], "const a = __mkhAwake(__mkhAt(),await f()) + 1;");
  // A loop's check opens a body that begins with an await.
  assert.match(
    lines[1]!,
    /^while \(go\) \{\/\*__mkhTick\*\/__mkhTick\(\);__mkhAwake\(__mkhAt\(\),await step\(\)\);/,
  );
  assert.equal(lines[2], "for (;;) {__mkhTick(); __mkhAwake(__mkhAt(),await tick()); }");
  assert.equal(lines[3], "async function g() { await h() }");
  assert.equal(lines[4], "const k = async () => await h();");
  new Function(`return async () => {${code}}`); // still valid JavaScript
});

Deno.test("enums and namespaces fall back to transform mode", () => {
  const code = compiled("enum E { A, B }\nnamespace N { export const v = 1 }\nE.B + N.v");
  assert.doesNotMatch(code, /enum|namespace/);
});

Deno.test("a TypeScript syntax error is reported with its cell position", () => {
  const r = compileCell("let x = 1;\nconst y: = 2", "cell-4");
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.name, "SyntaxError");
  assert.match(r.error.stack, /at cell-4:2:10/);
});

Deno.test("`export` before a declaration is dropped so pasted module code defines bindings", () => {
  assert.equal(compiled("export const k = 1;"), "const k = 1;");
});

Deno.test("every loop gets an interrupt check, inside functions too; a function's shown source has none", () => {
  const source = "function f(o, a) {\n  let x = 0;\n  for (let i = 0; i < 3; i++) x++;\n" +
    "  while (a) { a-- }\n  do x--; while (x > 5)\n  for (const k in o) if (k) continue;\n" +
    "  for (const v of [1]) for (;;) break;\n  outer: for (;;) { break outer }\n  return x;\n}\n" +
    'while (false) import("./m.js");';
  const code = compiled(source);
  assert.equal(code.split("\n").length, source.split("\n").length, "no line moves");
  assert.equal(code.match(new RegExp(`${INTERRUPT_CHECK}\\(\\)`, "g"))?.length, 8);
  assert.match(code, /\{\/\*__mkhTick\*\/__mkhTick\(\);globalThis\[Symbol\.for/);
  const f = code.slice(0, code.indexOf("\nwhile (false)"));
  assert.equal(withoutChecks(f), source.slice(0, source.indexOf("\nwhile (false)")));
  // The compiled function runs as written when no interrupt is asked for.
  const run = new Function(INTERRUPT_CHECK, `${f}; return f({ k: 1 }, 2)`);
  assert.equal(run(() => {}), 2);
  assert.throws(() =>
    run(() => {
      throw new Error("stop");
    }), /stop/);
});

Deno.test("plain JavaScript skips the type stripper, so sloppy-mode code it refuses compiles", () => {
  // amaro refuses `with` and legacy octal literals; a REPL cell is a sloppy-mode script.
  assert.equal(compiled("with (Math) { max(1, 2) }"), "with (Math) { max(1, 2) }");
  assert.equal(compiled("let x = 010; x"), "let x = 010; x");
  assert.equal(
    withoutChecks(compiled("for (let i = 0; i < 3; i++) x(() => i)")),
    "for (let i = 0; i < 3; i++) x(() => i)",
  );
});

Deno.test("type arguments that JavaScript would read as comparisons are still stripped", () => {
  // As JavaScript, `id<number>(1)` parses too: `(id < number) > 1`.
  const code = compiled("id<number>(1)");
  assert.doesNotMatch(code, /number/);
  assert.match(code, /^id\s*\(1\)$/);
  assert.doesNotMatch(compiled("new Map<string, Array<number>>()"), /string/);
});

Deno.test("a cell compiled again gives the same result, its own copy of the declared names", () => {
  const source = "let kept = 1; for (;;) break; kept";
  const first = compileCell(source, "cell-1");
  assert.ok(first.ok);
  first.declared.push("mutated");
  const second = compileCell(source, "cell-2");
  assert.ok(second.ok);
  assert.deepEqual(second.declared, ["kept"]);
  assert.equal(second.code, first.code);
  assert.ok(second.code.includes(INTERRUPT_CHECK), "the loop check is in the kept compile too");
});

Deno.test("a syntax error is compiled each time, named after the cell that has it", () => {
  const source = "const x: = 1";
  for (const name of ["cell-1", "cell-2"]) {
    const r = compileCell(source, name);
    assert.equal(r.ok, false);
    assert.match(r.error.stack, new RegExp(`at ${name}:1:`));
  }
});
