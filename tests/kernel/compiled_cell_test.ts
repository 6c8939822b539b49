import assert from "node:assert/strict";
import { CELL_KEY, globalAccess, LOADER_KEY } from "../../src/kernel/worker/compiled_cell.ts";

Deno.test("globalAccess spells an expression that reads the global symbol's value", () => {
  const holder = globalThis as unknown as Record<symbol, unknown>;
  holder[LOADER_KEY] = "the loader";
  try {
    assert.equal(globalAccess(LOADER_KEY), 'globalThis[Symbol.for("mcp-kernel-host.loader")]');
    assert.equal((0, eval)(globalAccess(LOADER_KEY)), "the loader");
    assert.equal(globalAccess(CELL_KEY), 'globalThis[Symbol.for("mcp-kernel-host.cell")]');
  } finally {
    delete holder[LOADER_KEY];
  }
});

Deno.test("globalAccess refuses a symbol that generated code could not name", () => {
  assert.throws(() => globalAccess(Symbol("local")), {
    name: "TypeError",
    message: "Cannot name Symbol(local) in generated code: it is not a Symbol.for key",
  });
});
