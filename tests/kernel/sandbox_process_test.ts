import assert from "node:assert/strict";
import { sandboxFlags } from "../../src/kernel/sandbox_process.ts";

Deno.test("sandbox flags grant only the given folders, and never all of the file system", () => {
  const flags = sandboxFlags({ read: ["/s", "/w"], write: ["/s"], memoryLimitMb: 128 });
  assert.ok(flags.includes("--allow-read=/s,/w"));
  assert.ok(flags.includes("--allow-write=/s"));
  // The heap may reach the save limit, twice the memory limit (see saveLimitMb).
  assert.ok(flags.includes("--v8-flags=--max-old-space-size=256,--expose-gc"));
  for (const forbidden of ["--allow-net", "--allow-run", "--allow-ffi", "--allow-import", "-A"]) {
    assert.ok(!flags.some((f) => f.startsWith(forbidden)), `${forbidden} must not be granted`);
  }
  // `--allow-write=` with nothing after it would allow writing everywhere.
  assert.throws(() => sandboxFlags({ read: ["/s"], write: [], memoryLimitMb: 128 }), RangeError);
  assert.throws(() => sandboxFlags({ read: [], write: ["/s"], memoryLimitMb: 128 }), RangeError);
});
