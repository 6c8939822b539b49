import assert from "node:assert/strict";
import { DENIED_ENV } from "../../src/kernel/deno_env.ts";
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
  // A sandbox never downloads, and cannot touch the variables that steer Deno.
  assert.ok(flags.includes("--cached-only"));
  assert.ok(flags.includes(`--deny-env=${DENIED_ENV.join(",")}`));
  for (const name of ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "DENO_CERT", "DENO_DIR"]) {
    assert.ok(DENIED_ENV.includes(name), name);
  }
  // `--allow-write=` with nothing after it would allow writing everywhere.
  assert.throws(() => sandboxFlags({ read: ["/s"], write: [], memoryLimitMb: 128 }), RangeError);
  assert.throws(() => sandboxFlags({ read: [], write: ["/s"], memoryLimitMb: 128 }), RangeError);
});
