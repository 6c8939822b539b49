import assert from "node:assert/strict";
import { CELL_MARKER, compileCell } from "../../src/kernel/cell_compiler.ts";

function compiled(source: string): string {
  const r = compileCell(source);
  assert.ok(r.ok, JSON.stringify(r));
  assert.ok(r.code.startsWith(CELL_MARKER));
  return r.code.slice(CELL_MARKER.length);
}

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
    lines[0],
    /^const \{ default: d, a, b: c, "x y": z \} = await .*\.importNamed\("npm:m", \["default","a","b","x y"\]\);$/,
  );
  assert.match(lines[1], /^const ns = await .*\.import\("\.\/n\.ts"\);$/);
  assert.match(lines[2], /^await .*\.import\("\.\/side\.ts"\);$/);
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
  assert.match(code, /importNamed\("\.\/d\.json", \["default"\], \{ with: \{ type: "json" \} \}\)/);
  assert.match(
    code,
    /const m = await globalThis\[Symbol\.for\("mcp-kernel-host\.loader"\)\]\.import\("npm:x"\)/,
  );
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
