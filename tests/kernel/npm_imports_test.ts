import assert from "node:assert/strict";
import { concat } from "../../src/kernel/bytes.ts";
import { bodyHead, padding } from "../../src/kernel/worker/snapshot_body.ts";
import { parse } from "acorn";
import { compileCell } from "../../src/kernel/cell_compiler.ts";
import {
  moduleImports,
  npmPackageName,
  npmRefusal,
  snapshotImports,
} from "../../src/kernel/npm_imports.ts";

function imports(code: string, sourceType: "script" | "module" = "module") {
  return moduleImports(parse(code, {
    ecmaVersion: "latest",
    sourceType,
    allowAwaitOutsideFunction: true,
    allowImportExportEverywhere: true,
  }));
}

Deno.test("literal npm: specifiers are found in declarations, re-exports and import()", () => {
  const found = imports(`
    import a from "npm:a@1";
    import "npm:side-effect";
    export { b } from "npm:@scope/b@2/sub";
    export * from "npm:c";
    const d = await import("npm:d@4");
    const e = await import(\`npm:e@5\`);
    function later() { return import("npm:f"); }
    import g from "./g.ts";
    import("../h.js"); import("file:///abs/i.js"); import("node:fs"); import("jsr:@std/x");
    import a2 from "npm:a@1";
  `);
  assert.deepEqual(found.npm, [
    "npm:a@1",
    "npm:side-effect",
    "npm:@scope/b@2/sub",
    "npm:c",
    "npm:d@4",
    "npm:e@5",
    "npm:f",
  ]);
  assert.deepEqual(found.files, ["./g.ts", "../h.js", "file:///abs/i.js"]);
});

Deno.test("computed specifiers are not found: the kernel refuses them instead", () => {
  const found = imports('const x = "a"; await import("npm:" + x); await import(`npm:${x}`)');
  assert.deepEqual(found, { npm: [], files: [] });
});

Deno.test("a compiled cell carries its literal imports, TypeScript included", () => {
  const r = compileCell(
    'import type { T } from "npm:types-only";\nimport sj from "npm:superjson@2.2.6";\n' +
      'const f = (s: string): Promise<unknown> => import("npm:ms@2.1.3");\nimport "./m.ts";',
  );
  assert.ok(r.ok);
  assert.deepEqual(r.imports, { npm: ["npm:superjson@2.2.6", "npm:ms@2.1.3"], files: ["./m.ts"] });
  const plain = compileCell("let x = 1; x + 1");
  assert.ok(plain.ok);
  assert.deepEqual(plain.imports, { npm: [], files: [] });
});

Deno.test("the package of a specifier is its name without version or subpath", () => {
  assert.equal(npmPackageName("npm:superjson@2.2.6"), "superjson");
  assert.equal(npmPackageName("npm:superjson"), "superjson");
  assert.equal(npmPackageName("npm:preact@10/hooks"), "preact");
  assert.equal(npmPackageName("npm:@scope/pkg@1.2.3/sub/path.js"), "@scope/pkg");
  assert.equal(npmPackageName("npm:/@scope/pkg"), "@scope/pkg");
  assert.equal(npmPackageName("npm:"), undefined);
  assert.equal(npmPackageName("npm:@scope"), undefined);
});

Deno.test("an allow list refuses unlisted packages, naming the package and the flag", () => {
  assert.equal(npmRefusal("npm:ms@2.1.3", undefined), undefined);
  assert.equal(npmRefusal("npm:ms@2.1.3", ["ms", "superjson"]), undefined);
  assert.equal(npmRefusal("npm:@s/p@1/x", ["@s/p"]), undefined);
  assert.equal(
    npmRefusal("npm:zod@4", ["ms", "superjson"]),
    'Cannot import "npm:zod@4": the package zod is not among those this host allows kernels ' +
      "to import (--npm-allow: ms, superjson); the operator may add it",
  );
  // A scope is not a package: @s/other is not @s/p.
  assert.match(npmRefusal("npm:@s/other", ["@s/p"])!, /package @s\/other is not among/);
  assert.match(npmRefusal("npm:", undefined)!, /names no npm package/);
});

Deno.test("a snapshot's imports are read from its head, never from its data", () => {
  const body = new TextEncoder().encode(JSON.stringify({
    format: 1,
    imports: [
      { name: "sj", kind: "const", specifier: "npm:superjson@2.2.6", export: "default" },
      { name: "m", kind: "const", specifier: "./m.ts", export: "*" },
      { name: "fs", kind: "const", specifier: "node:fs", export: "*" },
    ],
    declarations: [
      { name: "f", kind: "function", source: "function f() { return import('npm:ms@2.1.3') }" },
    ],
    kinds: { data: "const" },
    data: { json: { data: { specifier: "npm:from-data", kinds: ',"kinds":' } } },
  }));
  const imports = { npm: ["npm:superjson@2.2.6", "npm:ms@2.1.3"], files: ["./m.ts"] };
  assert.deepEqual(snapshotImports(body), imports);
  // A binary body: the JSON after the segments, whose bytes may hold anything.
  const segment = new TextEncoder().encode(',"kinds":{"npm:from-bytes":1}');
  const head = bodyHead([segment.length]);
  const binary = concat([head, segment, new Uint8Array(padding(segment.length)), body]);
  assert.deepEqual(snapshotImports(binary), imports);
  const none = { npm: [], files: [] };
  assert.deepEqual(snapshotImports(new TextEncoder().encode("not a snapshot")), none);
  assert.deepEqual(snapshotImports(new Uint8Array([0, 1, 2])), none);
});
